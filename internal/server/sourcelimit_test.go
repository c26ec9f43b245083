package server

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
)

// limitedEdge is a one-worker edge (so that every socket of a source
// reaches the same limiter) with a limit of burst unauthenticated requests
// and 1 more a second. Its clock only moves when the test advances it.
func limitedEdge(t *testing.T, burst int) *testEdge {
	t.Helper()
	return newTestEdge(t, func(o *Options) {
		o.Workers = 1
		o.UnauthenticatedLimit = policy.SourceLimit{Rate: 1, Burst: burst}
	})
}

// answers sends every request in reqs, then counts the answers that
// arrive until no more come within a short deadline.
func (c *client) answers(reqs []*stun.Message) []*stun.Message {
	c.t.Helper()
	for _, m := range reqs {
		c.send(m.Raw)
	}
	var got []*stun.Message
	buf := make([]byte, 2048)
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return got
		}
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		m := new(stun.Message)
		if err := stun.Decode(append([]byte(nil), buf[:n]...), m); err != nil {
			c.t.Fatalf("decode: %v", err)
		}
		got = append(got, m)
	}
}

// unauthenticatedAllocates returns n Allocate requests without credentials.
func unauthenticatedAllocates(c *client, n int) []*stun.Message {
	reqs := make([]*stun.Message, n)
	for i := range reqs {
		reqs[i] = c.build(stun.MethodAllocate, udpTransport)
	}
	return reqs
}

// waitDropped waits until the server counted want rate-limited requests,
// and fails if it counts more.
func (e *testEdge) waitDropped(want uint64) {
	e.t.Helper()
	waitFor(e.t, func() bool { return e.srv.Stats().Dropped(stats.DropRateLimited) >= want })
	if got := e.srv.Stats().Dropped(stats.DropRateLimited); got != want {
		e.t.Fatalf("%d requests rate limited, want %d", got, want)
	}
}

// TestUnauthenticatedLimit: a burst of unauthenticated Allocates from one
// source gets exactly burst 401s and the rest are dropped and counted;
// another source is unaffected; an authenticated client keeps working
// while its own address and another one are over the limit; 438s count
// too; the bucket refills with the clock.
func TestUnauthenticatedLimit(t *testing.T) {
	const burst, flood = 5, 100
	e := limitedEdge(t, burst)

	u, p := e.credential("alice", time.Hour)
	good := e.newClientFrom("127.0.0.1", u, p)
	wantCode(t, good.do(stun.MethodAllocate, udpTransport), 0) // its 401 takes 1 token of 127.0.0.1

	flooder := e.newClientFrom("127.0.0.3", "", "")
	got := flooder.answers(unauthenticatedAllocates(flooder, flood))
	if len(got) != burst {
		t.Fatalf("%d answers to %d unauthenticated Allocates, want %d", len(got), flood, burst)
	}
	for _, m := range got {
		wantCode(t, m, stun.CodeUnauthorized)
	}
	e.waitDropped(flood - burst)

	// Authenticated requests are not limited, from a limited address or
	// not: more of them than the burst, while the flooder is still over.
	for range 2 * burst {
		wantCode(t, good.do(stun.MethodRefresh), 0)
	}
	second := e.newClientFrom("127.0.0.2", u, p)
	wantCode(t, second.do(stun.MethodAllocate, udpTransport), 0)

	// The limit is per address, not per socket: a Binding from another
	// port of the flooder's address goes unanswered, and so does a
	// request with integrity and a nonce that is not the server's (it
	// would get a 438).
	other := e.newClientFrom("127.0.0.3", u, p)
	if got := other.answers([]*stun.Message{stun.MustBuild(stun.TransactionID, stun.BindingRequest)}); len(got) != 0 {
		t.Fatalf("Binding from a limited address answered: %v", got[0])
	}
	other.realm, other.nonce = testRealm, "obMatJos2AAABnot-a-nonce-of-this-server"
	if got := other.answers([]*stun.Message{other.build(stun.MethodAllocate, udpTransport)}); len(got) != 0 {
		t.Fatalf("438 sent to a limited address: %v", got[0])
	}
	e.waitDropped(flood - burst + 2)

	// Nor do the 400s a request with a junk integrity attribute would get:
	// without USERNAME, or of an unknown method.
	junk := func(method stun.Method) *stun.Message {
		return stun.MustBuild(stun.TransactionID, stun.NewType(method, stun.ClassRequest), udpTransport,
			stun.RawAttribute{Type: stun.AttrMessageIntegrity, Value: make([]byte, 20)})
	}
	if got := other.answers([]*stun.Message{junk(stun.MethodAllocate), junk(stun.Method(0x0ff))}); len(got) != 0 {
		t.Fatalf("400 sent to a limited address: %v", got[0])
	}
	e.waitDropped(flood - burst + 4)

	// 127.0.0.1 had burst-1 tokens left: a request with a stale nonce
	// takes one as its 438 does.
	bad := e.newClientFrom("127.0.0.1", u, p)
	bad.realm, bad.nonce = testRealm, other.nonce
	got = bad.answers([]*stun.Message{bad.build(stun.MethodAllocate, udpTransport)})
	if len(got) != 1 {
		t.Fatalf("%d answers to a request with a bad nonce, want 1", len(got))
	}
	wantCode(t, got[0], stun.CodeStaleNonce)

	// One second later the flooder has one token again.
	e.clk.Advance(time.Second)
	if got := flooder.answers(unauthenticatedAllocates(flooder, 3)); len(got) != 1 {
		t.Fatalf("%d answers after 1 s at 1/s, want 1", len(got))
	}
	e.waitDropped(flood - burst + 4 + 2)
}

// TestUnauthenticatedLimitOff: without a limit (the zero Options) every
// unauthenticated request is answered.
func TestUnauthenticatedLimitOff(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.Workers = 1 })
	c := e.newClient("", "")
	if got := c.answers(unauthenticatedAllocates(c, 50)); len(got) != 50 {
		t.Fatalf("%d answers to 50 Allocates without a limit", len(got))
	}
	if got := e.srv.Stats().Dropped(stats.DropRateLimited); got != 0 {
		t.Fatalf("%d rate limited without a limit", got)
	}
}

// TestUnauthenticatedLimitStream: requests on TCP connections are not
// limited per source: a TCP source has completed a handshake (its address
// is not forged), its connections are bounded per address, and a TCP
// client does not retransmit (RFC 8489 §6.2.2), so a dropped request would
// cost it a 39.5 s timeout. A UDP flood forged with the same address does
// not starve it.
func TestUnauthenticatedLimitStream(t *testing.T) {
	const burst = 3
	se := newStreamEdge(t, func(o *Options) {
		o.Workers = 1
		o.UnauthenticatedLimit = policy.SourceLimit{Rate: 1, Burst: burst}
	})
	// Empty the bucket of 127.0.0.1 over UDP.
	udp := se.newClient("", "")
	for range 2 * burst {
		udp.send(bindingRequest(t).Raw)
	}
	se.waitDropped(burst)
	c := se.dial(false)
	for range 2 * burst {
		req := bindingRequest(t)
		if _, err := c.Write(req.Raw); err != nil {
			t.Fatal(err)
		}
		wantBindingResponse(t, c, req)
	}
	if got := se.srv.Stats().Dropped(stats.DropRateLimited); got != burst {
		t.Fatalf("%d requests rate limited, want the %d over UDP only", got, burst)
	}
}

// TestChallengeSize: the answers to unauthenticated requests do not grow
// with the request and stay a fixed, small amount larger than the
// smallest request. With the 11-byte test realm a 401 is 128 bytes: 20
// (header) + 20 (ERROR-CODE 401 "Unauthorized") + 16 (REALM) + 52 (NONCE,
// 45 bytes) + 12 (PASSWORD-ALGORITHMS, two) + 8 (FINGERPRINT). For the
// minimal 28-byte Allocate (header and REQUESTED-TRANSPORT) that is an
// amplification of 4.6 in bytes, 1 in packets; a Binding answer is 40
// bytes for a 20-byte request (2.0).
func TestChallengeSize(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newClient("", "")
	realmLen := (len(testRealm) + 3) &^ 3
	// Everything a 401 adds to a bare header: ERROR-CODE, REALM, NONCE,
	// PASSWORD-ALGORITHMS, FINGERPRINT.
	challengeOverhead := 20 + 4 + realmLen + 52 + 12 + 8
	tests := []struct {
		name    string
		req     *stun.Message
		want    stun.MessageType
		maxSize int
	}{
		{"bare Allocate", stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest)),
			stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), 20 + challengeOverhead},
		{"minimal Allocate", stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport),
			stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), 20 + challengeOverhead},
		{"browser-like Allocate", stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport,
			stun.NewSoftware("WebRTC client 1.0"), stun.Fingerprint),
			stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), 20 + challengeOverhead},
		{"Refresh", stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodRefresh, stun.ClassRequest)),
			stun.NewType(stun.MethodRefresh, stun.ClassErrorResponse), 20 + challengeOverhead},
		{"Binding", stun.MustBuild(stun.TransactionID, stun.BindingRequest), stun.BindingSuccess, 20 + 12 + 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.roundTrip(tt.req)
			if r.Type != tt.want {
				t.Fatalf("answer %v, want %v", r.Type, tt.want)
			}
			if len(r.Raw) > tt.maxSize {
				t.Errorf("answer of %d bytes to a %d-byte request, want at most %d", len(r.Raw), len(tt.req.Raw), tt.maxSize)
			}
			if len(r.Raw) > len(tt.req.Raw)+tt.maxSize-20 {
				t.Errorf("answer of %d bytes is more than %d bytes larger than the %d-byte request", len(r.Raw), tt.maxSize-20, len(tt.req.Raw))
			}
		})
	}
}

// TestSourceLimitRequestAllocs: a request over the limit is dropped
// without allocating, the whole way from the datagram.
func TestSourceLimitRequestAllocs(t *testing.T) {
	f := newSocketFreeWorker(t)
	lim, err := newSourceLimiter(policy.SourceLimit{Rate: 1, Burst: 1}, f.w.env.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.w.limit = lim
	buf, off, n := packetBuf(stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw)
	f.w.handleClient(f.l, f.client, buf, off, n, 0) // takes the only token
	if allocs := testing.AllocsPerRun(1000, func() {
		f.w.handleClient(f.l, f.client, buf, off, n, 0)
	}); allocs != 0 {
		t.Fatalf("%v allocations per dropped request", allocs)
	}
	if got := f.w.p.drops[stats.DropRateLimited]; got < 1000 {
		t.Fatalf("%d requests rate limited, want every one after the first", got)
	}
}

// TestStaleNonceOverLimit: a request whose integrity verifies but whose
// nonce went stale gets its 438 although its source is over the limit
// (spoofed floods "from" a NAT must not keep its users from refreshing),
// while a 438 for a nonce the server did not mint is still limited.
func TestStaleNonceOverLimit(t *testing.T) {
	const burst = 3
	e := limitedEdge(t, burst)
	u, p := e.credential("alice", time.Hour)
	c := e.newClientFrom("127.0.0.4", u, p)
	c.allocate()                    // its 401 takes one token
	e.clk.Advance(11 * time.Minute) // the nonce is stale; the bucket refilled
	flooder := e.newClientFrom("127.0.0.4", "", "")
	if got := flooder.answers(unauthenticatedAllocates(flooder, 2*burst)); len(got) != burst {
		t.Fatalf("%d answers to the flood, want %d", len(got), burst)
	}
	got := c.answers([]*stun.Message{c.build(stun.MethodRefresh)})
	if len(got) != 1 {
		t.Fatalf("%d answers to a signed Refresh with a stale nonce over the limit, want its 438", len(got))
	}
	wantCode(t, got[0], stun.CodeStaleNonce)
	c.nonce = "obMatJos2AAABnot-a-nonce-of-this-server"
	if got := c.answers([]*stun.Message{c.build(stun.MethodRefresh)}); len(got) != 0 {
		t.Fatalf("a 438 for a nonce the server did not mint answered over the limit: %v", got[0])
	}
}
