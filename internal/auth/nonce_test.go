package auth

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

var (
	t0        = time.Unix(1_700_000_000, 0)
	clientA   = netip.MustParseAddrPort("192.0.2.10:40000")
	nonceKey  = []byte("pool-wide nonce key, 32 bytes!!!")
	otherKey  = []byte("another pool's nonce key .......")
	lifetime  = 10 * time.Minute
	v4Mapped  = netip.MustParseAddrPort("[::ffff:192.0.2.10]:40000")
	otherPort = netip.MustParseAddrPort("192.0.2.10:40001")
	otherIP   = netip.MustParseAddrPort("192.0.2.11:40000")
	clientV6  = netip.MustParseAddrPort("[2001:db8::10]:40000")
)

func TestNonceCookie(t *testing.T) {
	if got := nonceCookie + base64.StdEncoding.EncodeToString([]byte{0, 0, featurePasswordAlgorithms}); got != nonceCookieWithFeatures {
		t.Errorf("cookie constant %q, computed %q", nonceCookieWithFeatures, got)
	}
	n := NewNonces(nonceKey, lifetime, clock.NewFake(t0)).Issue(clientA)
	if !strings.HasPrefix(n, "obMatJos2AAAB") || len(n) >= 763 {
		t.Errorf("nonce %q (%d bytes)", n, len(n))
	}
	for _, c := range n {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", c) {
			t.Errorf("nonce has character %q outside base64url", c)
		}
	}
	tests := []struct {
		nonce string
		want  bool
	}{
		{n, true},
		{"obMatJos2AAAD" + "xyz", true},  // password algorithms + username anonymity
		{"obMatJos2AAAC" + "xyz", false}, // username anonymity only
		{"obMatJos2AAAA", false},
		{"obMatJos2AA", false},
		{"obMatJos2!!!!", false},
		{"f//499k954d6OL34oL9FSTvy64sA", false},
	}
	for _, tc := range tests {
		if got := noncePasswordAlgorithms(tc.nonce); got != tc.want {
			t.Errorf("noncePasswordAlgorithms(%q) = %v, want %v", tc.nonce, got, tc.want)
		}
	}
}

func TestNonceVerify(t *testing.T) {
	clk := clock.NewFake(t0)
	nonces := NewNonces(nonceKey, lifetime, clk)
	n := nonces.Issue(clientA)
	n6 := nonces.Issue(clientV6)
	tamper := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name    string
		verify  *Nonces
		nonce   string
		client  netip.AddrPort
		advance time.Duration
		err     error
	}{
		{"same client", nonces, n, clientA, 0, nil},
		{"ipv6 client", nonces, n6, clientV6, 0, nil},
		{"v4-mapped form of the same client", nonces, n, v4Mapped, 0, nil},
		{"other node, same key", NewNonces(nonceKey, lifetime, clk), n, clientA, 0, nil},
		{"at lifetime", nonces, n, clientA, lifetime, nil},
		{"stale", nonces, n, clientA, lifetime + time.Second, ErrStaleNonce},
		{"other port", nonces, n, otherPort, 0, ErrBadNonce},
		{"other address", nonces, n, otherIP, 0, ErrBadNonce},
		{"ipv6 nonce from ipv4", nonces, n6, clientA, 0, ErrBadNonce},
		{"other key", NewNonces(otherKey, lifetime, clk), n, clientA, 0, ErrBadNonce},
		{"tampered time", nonces, tamper(n, len(nonceCookieWithFeatures)+5), clientA, 0, ErrBadNonce},
		{"tampered mac", nonces, tamper(n, len(n)-2), clientA, 0, ErrBadNonce},
		{"truncated", nonces, n[:len(n)-1], clientA, 0, ErrBadNonce},
		{"extended", nonces, n + "A", clientA, 0, ErrBadNonce},
		{"no cookie", nonces, n[len(nonceCookieWithFeatures):], clientA, 0, ErrBadNonce},
		{"other features", nonces, "obMatJos2AAAD" + n[len(nonceCookieWithFeatures):], clientA, 0, ErrBadNonce},
		{"not base64url", nonces, nonceCookieWithFeatures + strings.Repeat("/", 32), clientA, 0, ErrBadNonce},
		{"empty", nonces, "", clientA, 0, ErrBadNonce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewFake(t0.Add(tc.advance))
			v := NewNonces(tc.verify.key, tc.verify.lifetime, c)
			if err := v.Verify(tc.nonce, tc.client); !errors.Is(err, tc.err) {
				t.Errorf("Verify = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestNonceFromTheFuture(t *testing.T) {
	ahead := NewNonces(nonceKey, lifetime, clock.NewFake(t0.Add(2*maxNonceSkew)))
	slight := NewNonces(nonceKey, lifetime, clock.NewFake(t0.Add(maxNonceSkew/2)))
	here := NewNonces(nonceKey, lifetime, clock.NewFake(t0))
	if err := here.Verify(ahead.Issue(clientA), clientA); !errors.Is(err, ErrBadNonce) {
		t.Errorf("nonce from far ahead: %v, want ErrBadNonce", err)
	}
	if err := here.Verify(slight.Issue(clientA), clientA); err != nil {
		t.Errorf("nonce from a slightly fast node: %v", err)
	}
}

func TestNonceUnique(t *testing.T) {
	clk := clock.NewFake(t0)
	nonces := NewNonces(nonceKey, lifetime, clk)
	seen := map[string]bool{}
	for _, c := range []netip.AddrPort{clientA, otherPort, otherIP, clientV6} {
		seen[nonces.Issue(c)] = true
	}
	clk.Advance(time.Second)
	seen[nonces.Issue(clientA)] = true
	if len(seen) != 5 {
		t.Errorf("%d distinct nonces of 5", len(seen))
	}
}

func TestNewNoncesDefaults(t *testing.T) {
	key := []byte("k")
	n := NewNonces(key, 0, nil)
	key[0] = 'x'
	if n.lifetime != DefaultNonceLifetime || string(n.key) != "k" {
		t.Errorf("lifetime %v key %q", n.lifetime, n.key)
	}
	if err := n.Verify(n.Issue(clientA), clientA); err != nil {
		t.Errorf("real clock round trip: %v", err)
	}
}
