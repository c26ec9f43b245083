package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRESTPasswordVector(t *testing.T) {
	// Computed independently: base64(HMAC-SHA1("north", "1700000000:alice@example.com")).
	if got := RESTPassword([]byte("north"), "1700000000:alice@example.com"); got != "3celanHA8Lk9Pxu1ukG8ouF3i3g=" {
		t.Errorf("RESTPassword = %q", got)
	}
}

func TestIssueParseRoundTrip(t *testing.T) {
	secret := Secret{ID: "k1", Value: []byte("north")}
	expiry := time.Unix(1_700_000_000, 0)
	for _, id := range []string{"alice@example.com", "a:b:c", "Ünïcødé user", strings.Repeat("x", 128)} {
		user, pass, err := Issue(secret, id, expiry.Add(300*time.Millisecond))
		if err != nil {
			t.Fatalf("Issue(%q): %v", id, err)
		}
		if want := "1700000000:" + id; user != want {
			t.Errorf("username = %q, want %q", user, want)
		}
		if pass != RESTPassword(secret.Value, user) {
			t.Errorf("password does not match RESTPassword")
		}
		gotExpiry, gotID, err := ParseUsername(user)
		if err != nil || !gotExpiry.Equal(expiry) || gotID != id {
			t.Errorf("ParseUsername(%q) = %v, %q, %v", user, gotExpiry, gotID, err)
		}
	}
}

func TestIssueErrors(t *testing.T) {
	secret := Secret{ID: "k", Value: []byte("s")}
	expiry := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name     string
		secret   Secret
		identity string
		expiry   time.Time
		err      error
	}{
		{"empty identity", secret, "", expiry, ErrBadIdentity},
		{"129 bytes", secret, strings.Repeat("x", 129), expiry, ErrBadIdentity},
		{"newline", secret, "alice\n", expiry, ErrBadIdentity},
		{"nul", secret, "al\x00ice", expiry, ErrBadIdentity},
		{"invalid utf-8", secret, "al\xffice", expiry, ErrBadIdentity},
		{"non-breaking space", secret, "al\u00a0ice", expiry, ErrBadIdentity},
		{"empty secret", Secret{ID: "k"}, "alice", expiry, ErrBadSecret},
		{"before 1970", secret, "alice", time.Unix(-1, 0), ErrBadUsername},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Issue(tc.secret, tc.identity, tc.expiry); !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestParseUsername(t *testing.T) {
	tests := []struct {
		in       string
		expiry   int64
		identity string
		err      error
	}{
		{"1700000000:alice", 1_700_000_000, "alice", nil},
		{"1700000000", 1_700_000_000, "", nil},
		{"1700000000:", 1_700_000_000, "", nil},
		{"1700000000:a:b", 1_700_000_000, "a:b", nil},
		{"0:x", 0, "x", nil},
		{"", 0, "", ErrBadUsername},
		{":alice", 0, "", ErrBadUsername},
		{"alice:1700000000", 0, "", ErrBadUsername},
		{"-5:x", 0, "", ErrBadUsername},
		{"+5:x", 0, "", ErrBadUsername},
		{" 5:x", 0, "", ErrBadUsername},
		{"1.5:x", 0, "", ErrBadUsername},
		{"9999999999999999999:x", 0, "", ErrBadUsername},
		{"12345678901234567890:x", 0, "", ErrBadUsername},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			expiry, id, err := ParseUsername(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && (expiry.Unix() != tc.expiry || id != tc.identity) {
				t.Errorf("got %d %q, want %d %q", expiry.Unix(), id, tc.expiry, tc.identity)
			}
		})
	}
}
