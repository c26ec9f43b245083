package edgetest

import (
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/server/stats"
)

// realm is the edge's REALM.
const realm = "avedge.test"

// loopback is the address of every listener and of the relayed addresses.
var loopback = netip.MustParseAddr("127.0.0.1")

// Edge is a running edge: a relay and its credential service on loopback.
type Edge struct {
	Realm      string         // "avedge.test"
	UDP        netip.AddrPort // TURN over UDP, 127.0.0.1:port
	TCP        netip.AddrPort // plain TURN over TCP, 127.0.0.1:port
	TLS        netip.AddrPort // TURN over TLS, 127.0.0.1:port (certificate for "localhost" and IP 127.0.0.1)
	ServiceURL string         // "https://127.0.0.1:port" of the credential service
	CAFile     string         // PEM of the CA that signed the TLS listener's and the service's certificates
	CAPEM      []byte         // same bytes

	relay  *server.Server
	client *credsvc.Client
	ttl    time.Duration // Options.CredentialTTL
}

// Start runs the edge until the test ends (stopped and checked in
// tb.Cleanup via servertest.Serve).
func Start(tb testing.TB, opts Options) *Edge {
	tb.Helper()
	if opts.RelayPortMin <= 0 {
		tb.Fatal("edgetest: Options.RelayPortMin is required")
	}
	opts = opts.withDefaults()
	ca := newTestPKI(tb)
	keyring := newKeyring(tb)
	relay := startRelay(tb, opts, keyring, ca.serverCert(tb))
	e := &Edge{Realm: realm, UDP: relay.Addrs()[0], relay: relay, ttl: opts.CredentialTTL}
	stream := relay.StreamAddrs()
	e.TCP, e.TLS = stream[0], stream[1]
	e.ServiceURL = startService(tb, keyring, ca, e.relays())
	e.CAPEM, e.CAFile = ca.writeCA(tb)
	e.client = newClient(tb, e.ServiceURL, ca)
	return e
}

// Stats returns the relay's counters.
func (e *Edge) Stats() stats.Stats { return e.relay.Stats() }

// RelayAddr is the relay address (127.0.0.1).
func (e *Edge) RelayAddr() netip.Addr { return loopback }
