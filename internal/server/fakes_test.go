package server

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
)

// fakeSocket records the last datagram written to it, with its TOS byte,
// and how often DF was switched on, without allocating.
type fakeSocket struct {
	addr    netip.AddrPort
	writes  int
	last    []byte // 64 KiB, allocated by the first write
	n       int
	to      netip.AddrPort
	tos     uint8
	dfCalls int
	df      bool
	closed  bool
}

func (f *fakeSocket) WriteTo(b []byte, to netip.AddrPort) error { return f.QueueTo(b, to, 0) }
func (f *fakeSocket) QueueTo(b []byte, to netip.AddrPort, tos uint8) error {
	f.writes++
	if f.last == nil {
		f.last = make([]byte, 65536)
	}
	f.n = copy(f.last, b)
	f.to, f.tos = to, tos
	return nil
}
func (f *fakeSocket) SetDontFragment(on bool) error {
	f.dfCalls++
	f.df = on
	return nil
}
func (f *fakeSocket) LocalAddr() netip.AddrPort { return f.addr }
func (f *fakeSocket) Close() error              { f.closed = true; return nil }
func (f *fakeSocket) lastWrite() []byte         { return f.last[:f.n] }

// fakeRelays hands out fake relay sockets.
type fakeRelays struct{ opened int }

func (r *fakeRelays) open(addr netip.AddrPort, _ *session) (socket, error) {
	r.opened++
	return &fakeSocket{addr: addr}, nil
}
func (r *fakeRelays) close(sock socket) { _ = sock.Close() }

// socketFreeWorker is a worker with fake sockets: a listener on
// 127.0.0.1:3478, and one allocation for client with channel 0x4000 bound to
// peer (which also has a permission).
type socketFreeWorker struct {
	w        *worker
	l        *listener
	lsock    *fakeSocket
	s        *session
	client   netip.AddrPort
	peer     netip.AddrPort
	clk      *clock.Fake
	password string
	username string
}

func newSocketFreeWorker(tb testing.TB) *socketFreeWorker {
	tb.Helper()
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	secret := auth.Secret{ID: "k1", Value: []byte("test-secret-0123456789abcdef")}
	keyring, err := auth.NewKeyring([]auth.Secret{secret})
	if err != nil {
		tb.Fatal(err)
	}
	pool, err := allocation.NewPortPool(40000, 40099, nil)
	if err != nil {
		tb.Fatal(err)
	}
	pool6, err := allocation.NewPortPool(40000, 40099, nil)
	if err != nil {
		tb.Fatal(err)
	}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm: testRealm, Keyring: keyring, MaxCredentialLifetime: 8 * time.Hour,
		Nonces: auth.NewNonces([]byte("nonce-key-0123456789abcdef"), 10*time.Minute, clk), Clock: clk,
	})
	if err != nil {
		tb.Fatal(err)
	}
	env := &shared{
		auth: authn,
		families: [families]relayFamily{
			famV4: {addr: netip.MustParseAddr("127.0.0.1"), pool: pool},
			famV6: {addr: netip.MustParseAddr("::1"), pool: pool6},
		},
		reservations: allocation.NewReservations(200, 0, nil),
		quota:        allocation.NewQuota(0, 0),
		owners:       newReservationOwners(),
		drain:        newDrainState(nil, 0),
		alloc:        allocation.DefaultConfig(),
		maxAge:       DefaultMaxAllocationAge,
		clock:        clk,
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		tcp:          newTCPShared(0),
		msTurn:       true,
	}
	env.policy.Store(loopbackPolicy())
	env.peers.Store(newPeerRule(nil, 0, 0, nil))
	env.quotaLimits.Store(&quotaLimits{perUser: 12, total: 100})
	if env.tenants, err = newTenantTable(authn, nil, *env.quotaLimits.Load()); err != nil {
		tb.Fatal(err)
	}
	env.bw.set([]bwCaps{{}}, clk.Now())
	w := newWorker(env, &fakeRelays{})
	lsock := &fakeSocket{addr: netip.MustParseAddrPort("127.0.0.1:3478")}
	l := &listener{sock: lsock, addr: lsock.addr, auth: env.auth}
	f := &socketFreeWorker{
		w: w, l: l, lsock: lsock, clk: clk,
		client: netip.MustParseAddrPort("127.0.0.1:40000"),
		peer:   netip.MustParseAddrPort("127.0.0.1:50000"),
	}
	f.username, f.password, err = auth.Issue(secret, "bench", clk.Now().Add(time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	now := clk.Now()
	a := &allocation.Allocation{
		FiveTuple: allocation.FiveTuple{Client: f.client, Server: l.addr, Proto: allocation.UDP},
		Relayed:   netip.MustParseAddrPort("127.0.0.1:40001"),
		Username:  f.username,
	}
	a.Refresh(time.Hour, now)
	f.s = &session{alloc: a, client: l}
	f.s.relays[famV4] = relay{sock: &fakeSocket{addr: a.Relayed}, addr: a.Relayed}
	a.Relay = f.s
	if err := w.table.Insert(a); err != nil {
		tb.Fatal(err)
	}
	if err := a.BindChannel(0x4000, f.peer, now); err != nil {
		tb.Fatal(err)
	}
	return f
}
