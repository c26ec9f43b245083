package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/authhook"
	"github.com/avedge/avedge/internal/stunproto"
	"github.com/avedge/avedge/internal/turntest"
)

// hookService is a test auth webhook over HTTPS on loopback: usernames
// starting "ok" are allowed with password "hook-pass", "slow" hangs until
// the lookup gives up, "gate" waits for gate to close and is allowed,
// anything else is refused (403). It counts the lookups of each
// username.
type hookService struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string]int
	// slow is told when a lookup of "slow" or "gate" arrives.
	slow chan struct{}
	gate chan struct{}
}

func newHookService(t *testing.T) *hookService {
	t.Helper()
	h := &hookService{calls: map[string]int{}, slow: make(chan struct{}, 8), gate: make(chan struct{})}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var q struct{ Username, Realm, Client, Transport string }
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.Realm != testRealm || q.Client == "" || q.Transport == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.calls[q.Username]++
		h.mu.Unlock()
		switch {
		case strings.HasPrefix(q.Username, "ok"):
			_, _ = w.Write([]byte(`{"password":"hook-pass"}`))
		case q.Username == "slow":
			h.slow <- struct{}{}
			<-r.Context().Done()
		case q.Username == "gate":
			h.slow <- struct{}{}
			<-h.gate
			_, _ = w.Write([]byte(`{"password":"hook-pass"}`))
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookService) callsOf(user string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[user]
}

// client returns an authhook client of the service with timeout.
func (h *hookService) client(t *testing.T, timeout time.Duration) *authhook.Client {
	t.Helper()
	c, err := authhook.New(authhook.Options{
		URL:     h.srv.URL,
		TLS:     h.srv.Client().Transport.(*http.Transport).TLSClientConfig,
		Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// hookEdge is a stream edge of one worker (so that every client shares
// the worker a lookup would stall) whose authenticator asks hook.
func hookEdge(t *testing.T, hook auth.Hook) *streamEdge {
	t.Helper()
	return newStreamEdgeAuth(t, func(o *auth.Options) { o.Hook = hook }, func(o *Options) { o.Workers = 1 })
}

func TestAuthHookUDP(t *testing.T) {
	svc := newHookService(t)
	e := hookEdge(t, svc.client(t, 2*time.Second))

	c := turntest.DialUDP(t, e.addr, "ok-alice", "hook-pass")
	if _, code := c.Allocate(); code != 0 {
		t.Fatalf("allowed: Allocate = %d", code)
	}
	// Cached: another client of the same username makes no lookup.
	c2 := turntest.DialUDP(t, e.addr, "ok-alice", "hook-pass")
	if _, code := c2.Allocate(); code != 0 {
		t.Fatalf("cached: Allocate = %d", code)
	}
	if n := svc.callsOf("ok-alice"); n != 1 {
		t.Errorf("the service was asked %d times about ok-alice, want 1", n)
	}
	// The service's password is the one checked.
	bad := turntest.DialUDP(t, e.addr, "ok-alice", "wrong")
	if _, code := bad.Allocate(); code != stun.CodeUnauthorized {
		t.Errorf("wrong password: Allocate = %d, want 401", code)
	}
	// Refused, then refused from the negative cache.
	for range 2 {
		r := turntest.DialUDP(t, e.addr, "mallory", "x")
		if _, code := r.Allocate(); code != stun.CodeUnauthorized {
			t.Errorf("refused: Allocate = %d, want 401", code)
		}
	}
	if n := svc.callsOf("mallory"); n != 1 {
		t.Errorf("the service was asked %d times about mallory, want 1", n)
	}
	// Local users never reach it.
	st := turntest.DialUDP(t, e.addr, "static", "static-password")
	if _, code := st.Allocate(); code != 0 {
		t.Errorf("static user: Allocate = %d", code)
	}
	if n := svc.callsOf("static"); n != 0 {
		t.Errorf("the service was asked about a static user")
	}
}

// TestAuthHookTCP shows the deferred path: a TCP client does not
// retransmit, so its request must be answered once the lookup ends.
func TestAuthHookTCP(t *testing.T) {
	svc := newHookService(t)
	e := hookEdge(t, svc.client(t, 2*time.Second))
	for _, useTLS := range []bool{false, true} {
		c := turntest.New(t, e.dial(useTLS), "ok-bob", "hook-pass")
		if _, code := c.Allocate(); code != 0 {
			t.Fatalf("tls=%v: Allocate = %d", useTLS, code)
		}
	}
	r := turntest.New(t, e.dial(false), "eve", "x")
	if _, code := r.Allocate(); code != stun.CodeUnauthorized {
		t.Errorf("refused over TCP: Allocate = %d, want 401", code)
	}
	if n := svc.callsOf("ok-bob"); n != 1 {
		t.Errorf("the service was asked %d times about ok-bob, want 1", n)
	}
}

// TestAuthHookSlow: a lookup that hangs ends with the timeout, refused;
// meanwhile the (single) worker answers other clients.
func TestAuthHookSlow(t *testing.T) {
	svc := newHookService(t)
	e := hookEdge(t, svc.client(t, time.Second))
	slow := turntest.New(t, e.dial(false), "slow", "x")
	type result struct {
		code stun.ErrorCode
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		_, code := slow.Request(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
		done <- result{code, time.Since(start)}
	}()
	select {
	case <-svc.slow:
	case <-time.After(turntest.Timeout):
		t.Fatal("the lookup never reached the service")
	}
	// The lookup hangs: the worker still answers a Binding and allocates
	// for a static user, over UDP and TCP.
	other := turntest.DialUDP(t, e.addr, "static", "static-password")
	if got := other.Binding(); got != other.LocalAddr() {
		t.Errorf("Binding while a lookup hangs: %v, want %v", got, other.LocalAddr())
	}
	if _, code := other.Allocate(); code != 0 {
		t.Errorf("Allocate while a lookup hangs: %d", code)
	}
	tcp := turntest.New(t, e.dial(false), "static", "static-password")
	if _, code := tcp.Allocate(); code != 0 {
		t.Errorf("TCP Allocate while a lookup hangs: %d", code)
	}
	select {
	case <-done:
		t.Fatal("the slow request was answered before its lookup timed out")
	default:
	}
	r := <-done
	if r.code != stun.CodeUnauthorized {
		t.Errorf("slow: Allocate = %d, want 401", r.code)
	}
	if r.took < 900*time.Millisecond || r.took > turntest.Timeout {
		t.Errorf("slow: answered after %v, want the 1s timeout", r.took)
	}
}

func TestAuthHookDown(t *testing.T) {
	svc := newHookService(t)
	hook := svc.client(t, 2*time.Second)
	svc.srv.Close()
	e := hookEdge(t, hook)
	for _, c := range []*turntest.Client{
		turntest.DialUDP(t, e.addr, "ok-carol", "hook-pass"),
		turntest.New(t, e.dial(false), "ok-dave", "hook-pass"),
	} {
		if _, code := c.Allocate(); code != stun.CodeUnauthorized {
			t.Errorf("service down: Allocate = %d, want 401", code)
		}
	}
	if st := hook.Stats(); st.Outcomes[authhook.Error] != 2 {
		t.Errorf("errors counted: %v", st.Outcomes)
	}
}

// TestAuthHookClosedConnection: a TCP client that leaves while its
// lookup is under way gets no allocation when the answer comes.
func TestAuthHookClosedConnection(t *testing.T) {
	svc := newHookService(t)
	e := hookEdge(t, svc.client(t, 5*time.Second))
	conn := e.dial(false)
	c := turntest.New(t, conn, "gate", "hook-pass")
	// The 401 challenge first, then the signed Allocate that waits.
	challenge, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP}, stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(challenge)
	var nonce stun.Nonce
	if err := nonce.GetFrom(c.Read()); err != nil {
		t.Fatal(err)
	}
	signed, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP}, stun.NewUsername("gate"), stun.NewRealm(testRealm), nonce,
		stun.NewLongTermIntegrity("gate", testRealm, "hook-pass"), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(signed)
	select {
	case <-svc.slow:
	case <-time.After(turntest.Timeout):
		t.Fatal("the lookup never reached the service")
	}
	_ = conn.Close()
	waitFor(t, func() bool { return e.srv.Stats().Stream.Open == 0 })
	close(svc.gate)
	waitFor(t, func() bool { return e.srv.env.waits.n.Load() == 0 })
	// The same username on a live connection is allowed (from the cache):
	// the closed connection's request did not run.
	live := turntest.New(t, e.dial(false), "gate", "hook-pass")
	if _, code := live.Allocate(); code != 0 {
		t.Fatalf("Allocate = %d", code)
	}
	var created uint64
	for _, n := range e.srv.Stats().AllocationsCreated {
		created += n
	}
	if created != 1 {
		t.Errorf("%d allocations created, want 1 (the live client's)", created)
	}
}
