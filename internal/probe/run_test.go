package probe

import (
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
)

// TestAllPass: against a healthy edge every check passes over UDP, TCP
// and TLS, with a round trip through each relay.
func TestAllPass(t *testing.T) {
	e := startEdge(t, edgeConfig{})
	r := probe(t, Options{URIs: e.uris(), Credentials: credential(t, testSecret, time.Now().Add(time.Hour)), RootCAs: e.ca.Pool()})
	for _, c := range r.Checks {
		if c.Status != Pass {
			t.Errorf("%s: %v: %s (%s)", c.Name, c.Status, c.Detail, c.Remedy)
		}
	}
	check(t, r, []want{
		{"credentials", Pass, "the command line"},
		{"dns 127.0.0.1", Pass, "IP address"},
		{"stun udp " + e.udp.String(), Pass, "reflexive address 127.0.0.1:"},
		{"tcp " + e.tcp.String(), Pass, "connected"},
		{"tls " + e.tcp.String(), Pass, "names 127.0.0.1"},
		{"allocate udp", Pass, "relayed address 127.0.0.1:"},
		{"allocate tcp", Pass, "relayed address 127.0.0.1:"},
		{"allocate tls", Pass, "relayed address 127.0.0.1:"},
		{"round-trip udp", Pass, "5/5 round trips"},
		{"round-trip tcp", Pass, "5/5 round trips"},
		{"round-trip tls", Pass, "5/5 round trips"},
		{"relay-port udp", Pass, "directly"},
		{"relay-port tls", Pass, "directly"},
		{"nat", Pass, "no sign of NAT"},
		{"clock", Pass, "expires at"},
	})
	if !r.OK() || len(r.Checks) != 16 {
		t.Errorf("ok %v, %d checks; want ok and 16", r.OK(), len(r.Checks))
	}
}

// TestFailures provokes each failure against a running edge and checks
// the status and remedy of the check that names it.
func TestFailures(t *testing.T) {
	e := startEdge(t, edgeConfig{})
	udp, tcp := closedPorts(t)
	now := time.Now()
	good := credential(t, testSecret, now.Add(time.Hour))
	for _, tc := range []struct {
		name  string
		opts  Options
		wants []want
	}{
		{"closed ports", Options{URIs: []string{"turn:" + udp.String() + "?transport=udp", "turn:" + tcp.String() + "?transport=tcp"},
			Credentials: good, Timeout: 300 * time.Millisecond},
			[]want{
				{"stun udp", Fail, "UDP " + itoa(udp.Port()) + " is blocked by a firewall"},
				{"tcp", Fail, "nothing listens on TCP"},
				{"allocate udp", Skip, "UDP port not answering"},
				{"allocate tcp", Skip, "TCP port not reachable"},
				{"nat", Skip, ""},
			}},
		{"wrong password", Options{URIs: e.uris()[:2], RootCAs: e.ca.Pool(),
			Credentials: StaticCredential{Username: good.Username, Password: "not-the-password"}},
			[]want{
				{"stun udp", Pass, ""},
				{"allocate udp", Fail, "wrong username or password"},
				{"allocate tcp", Fail, "401 Unauthorized after credentials"},
				{"clock", Pass, ""},
			}},
		{"secret mismatch", Options{URIs: e.uris()[:1],
			Credentials: credential(t, auth.Secret{ID: "other", Value: []byte("another-secret-0123456789")}, now.Add(time.Hour))},
			[]want{{"allocate udp", Fail, "secret mismatch"}}},
		{"expired credential", Options{URIs: e.uris()[:1], Credentials: credential(t, testSecret, now.Add(-2*time.Minute))},
			[]want{
				{"allocate udp", Fail, "the credential expired at"},
				{"clock", Fail, "clocks differ or the issuer's TTL is too short"},
			}},
		{"credential too far ahead", Options{URIs: e.uris()[:1], Credentials: credential(t, testSecret, now.Add(9*time.Hour))},
			[]want{
				{"allocate udp", Fail, "further ahead than the edge's maximum lifetime of 8h0m0s"},
				{"clock", Warn, "the edge will refuse it"},
			}},
		{"no credential", Options{URIs: e.uris()[:1]},
			[]want{
				{"stun udp", Pass, ""},
				{"allocate udp", Skip, "no credential"},
				{"clock", Skip, ""},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := probe(t, tc.opts)
			check(t, r, tc.wants)
			if r.OK() {
				for _, w := range tc.wants {
					if w.status == Fail {
						t.Error("report OK despite a failure")
					}
				}
			}
		})
	}
}

// TestBadCertificate: a certificate for another name, and one from a CA
// the probe does not know, fail the TLS check with their remedies, and the
// TLS allocation is not attempted; plain TCP on the same port still works.
func TestBadCertificate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     edgeConfig
		trusted bool
		text    string
	}{
		{"wrong name", edgeConfig{certNames: []string{"edge.example.com"}}, true, "subjectAltName includes 127.0.0.1"},
		{"unknown CA", edgeConfig{}, false, "give it to this probe with --ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEdge(t, tc.cfg)
			opts := Options{URIs: e.uris()[1:], Credentials: credential(t, testSecret, time.Now().Add(time.Hour))}
			if tc.trusted {
				opts.RootCAs = e.ca.Pool()
			} else {
				opts.RootCAs = newCA(t, "another CA").Pool()
			}
			r := probe(t, opts)
			check(t, r, []want{
				{"tcp", Pass, ""},
				{"tls", Fail, tc.text},
				{"allocate tcp", Pass, ""},
				{"allocate tls", Skip, "the certificate does not verify"},
			})
		})
	}
}

// TestDeniedPeer: an edge whose peer policy denies loopback refuses the
// permission for the probe peer with 403, which names the policy.
func TestDeniedPeer(t *testing.T) {
	e := startEdge(t, edgeConfig{denyLoopback: true})
	r := probe(t, Options{URIs: e.uris()[:2], Credentials: credential(t, testSecret, time.Now().Add(time.Hour))})
	check(t, r, []want{
		{"allocate udp", Pass, ""},
		{"round-trip udp", Fail, "the edge's peer policy refuses this address (127.0.0.1)"},
		{"round-trip tcp", Fail, "peer policy"},
		{"relay-port udp", Skip, ""},
	})
}
