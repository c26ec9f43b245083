package bench

import (
	"io"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/servertest"
)

const (
	testSecret = "bench-test-secret-0123456789abcdef"
	testUser   = "static"
	testPass   = "static-password"
	// testPortBase keeps relay ports below Linux's ephemeral range (32768)
	// and apart from internal/server's tests (20000 and up).
	testPortBase = 12000
	testPortSpan = 128
	stopTimeout  = 5 * time.Second
)

var portBlock atomic.Int32

// startEdge runs a real avedge server on 127.0.0.1 with a REST secret and
// one static user, and returns its UDP address.
func startEdge(t *testing.T) netip.AddrPort {
	t.Helper()
	keyring, err := auth.NewKeyring([]auth.Secret{{ID: "k1", Value: []byte(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm:       "bench.test",
		Keyring:     keyring,
		StaticUsers: map[string]string{testUser: testPass},
		Nonces:      auth.NewNonces([]byte("bench-nonce-key-0123456789abcdef"), time.Minute, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := testPortBase + int(portBlock.Add(1)%((20000-testPortBase)/testPortSpan))*testPortSpan
	srv, err := server.New(server.Options{
		Listeners:          []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
		RelayAddr:          netip.MustParseAddr("127.0.0.1"),
		PortMin:            base,
		PortMax:            base + testPortSpan - 1,
		Allocation:         allocation.DefaultConfig(),
		AllocationsPerUser: 64,
		AllocationsTotal:   1000,
		Auth:               authn,
		Policy:             policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil, true),
		Workers:            2,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	servertest.Serve(t, srv)
	return srv.Addrs()[0]
}

// shortConfig returns a short run of mode against server.
func shortConfig(mode Mode, server netip.AddrPort) Config {
	return Config{
		Mode: mode, Server: server.String(), Secret: testSecret, Peer: "127.0.0.1:0",
		Duration: time.Second, Warmup: 200 * time.Millisecond,
		Calls: 10, PPS: 50, Size: 172, FrameInterval: 33 * time.Millisecond, FrameSize: 6000,
	}
}
