package probe

import (
	"fmt"
	"time"

	"github.com/avedge/avedge/internal/auth"
)

const (
	// expirySlack is the clock-skew margin the edge grants beyond its
	// maximum credential lifetime (auth.max_credential_lifetime).
	expirySlack = 60 * time.Second
	// skewWarn is the clock difference to the issuer that draws a warning.
	skewWarn = 30 * time.Second
)

// clockCheck compares an ephemeral credential's expiry ("<expiry>:<id>",
// the TURN REST API username) with the local clock now, and the local
// clock with the issuer's when the credential's source told it.
func clockCheck(c *Credential, now time.Time, maxLifetime time.Duration) Result {
	r := Result{Name: "clock"}
	if c == nil {
		r.Status, r.Detail = Skip, "no credential"
		return r
	}
	expiry, _, err := auth.ParseUsername(c.Username)
	if err != nil {
		r.Status, r.Detail = Skip, fmt.Sprintf("username %q holds no expiry (not an ephemeral credential)", c.Username)
		return r
	}
	left := expiry.Sub(now)
	at := expiry.UTC().Format(time.RFC3339)
	skewNote, skewed := "", time.Duration(0)
	if !c.IssuerTime.IsZero() {
		// skewed > 0: the local clock is ahead of the issuer's.
		skewed = c.LocalTime.Sub(c.IssuerTime)
		skewNote = fmt.Sprintf("; this machine's clock is %s the issuer's", aheadBehind(skewed))
	}
	switch {
	case left <= 0:
		r.Status = Fail
		r.Detail = fmt.Sprintf("the credential expired at %s, %v ago by this machine's clock%s", at, (-left).Round(time.Second), skewNote)
		r.Remedy = fmt.Sprintf("the credential expired at %s: clocks differ or the issuer's TTL is too short; run NTP on the "+
			"issuer, the edge and this machine, and fetch a fresh credential just before use", at)
	case left > maxLifetime+expirySlack:
		r.Status = Warn
		r.Detail = fmt.Sprintf("the credential expires at %s, in %v: more than the edge's maximum lifetime of %v%s",
			at, left.Round(time.Second), maxLifetime, skewNote)
		r.Remedy = "the edge will refuse it (401) unless its auth.max_credential_lifetime is longer: the issuer's TTL is " +
			"too long, or the issuer's clock is ahead of yours or the edge's (clock skew): run NTP on every host"
	case skewed > skewWarn || skewed < -skewWarn:
		r.Status = Warn
		r.Detail = fmt.Sprintf("the credential expires at %s, in %v%s", at, left.Round(time.Second), skewNote)
		r.Remedy = "clock skew between the issuer and this machine: credentials will expire earlier or later than " +
			"expected, and the edge judges them by its own clock; run NTP on every host"
	default:
		r.Status = Pass
		r.Detail = fmt.Sprintf("the credential expires at %s, in %v%s", at, left.Round(time.Second), skewNote)
	}
	return r
}

// aheadBehind says "N ahead of", "N behind" or "in step with".
func aheadBehind(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d > 0:
		return fmt.Sprintf("%v ahead of", d)
	case d < 0:
		return fmt.Sprintf("%v behind", -d)
	}
	return "in step with"
}

// credentialProblem says why the edge would refuse an ephemeral credential
// by its expiry at time now (RFC 8489 §9.2 leaves the check to the server;
// avedge refuses expired credentials and those expiring further ahead than
// its maximum lifetime), or "".
func credentialProblem(c *Credential, now time.Time, maxLifetime time.Duration) string {
	if c == nil {
		return ""
	}
	expiry, _, err := auth.ParseUsername(c.Username)
	switch {
	case err != nil:
		return ""
	case !expiry.After(now):
		return "the credential expired at " + expiry.UTC().Format(time.RFC3339)
	case expiry.Sub(now) > maxLifetime+expirySlack:
		return fmt.Sprintf("the credential expires at %s, further ahead than the edge's maximum lifetime of %v",
			expiry.UTC().Format(time.RFC3339), maxLifetime)
	}
	return ""
}
