package probe

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClockCheck(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cred := func(expiry time.Time, skew time.Duration) *Credential {
		c := &Credential{Username: strconv.FormatInt(expiry.Unix(), 10) + ":alice"}
		if skew != 0 {
			c.LocalTime, c.IssuerTime = now, now.Add(-skew)
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		cred   *Credential
		status Status
		text   string
	}{
		{"none", nil, Skip, "no credential"},
		{"static user", &Credential{Username: "alice"}, Skip, "holds no expiry"},
		{"valid", cred(now.Add(time.Hour), 0), Pass, "in 1h0m0s"},
		{"valid, clocks in step", cred(now.Add(time.Hour), time.Second), Pass, "1s ahead of the issuer's"},
		{"expired", cred(now.Add(-time.Minute), 0), Fail, "clocks differ or the issuer's TTL is too short"},
		{"expires now", cred(now, 0), Fail, "expired at 2025-03-01T12:00:00Z"},
		{"too far ahead", cred(now.Add(8*time.Hour+2*time.Minute), 0), Warn, "the edge will refuse it"},
		{"within the slack", cred(now.Add(8*time.Hour+30*time.Second), 0), Pass, ""},
		{"local clock behind", cred(now.Add(time.Hour), -2*time.Minute), Warn, "2m0s behind the issuer's"},
		{"local clock ahead", cred(now.Add(time.Hour), 5*time.Minute), Warn, "clock skew"},
	} {
		r := clockCheck(tc.cred, now, 8*time.Hour)
		if r.Status != tc.status || !strings.Contains(r.Detail+r.Remedy, tc.text) {
			t.Errorf("%s: %v %q (%q), want %v with %q", tc.name, r.Status, r.Detail, r.Remedy, tc.status, tc.text)
		}
		if (r.Status == Fail || r.Status == Warn) && r.Remedy == "" {
			t.Errorf("%s: no remedy", tc.name)
		}
		if got := credentialProblem(tc.cred, now, 8*time.Hour); (got != "") != (tc.status == Fail || tc.name == "too far ahead") {
			t.Errorf("%s: credentialProblem %q", tc.name, got)
		}
	}
}
