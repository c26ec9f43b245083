// Command poolclient is the client and peer helper of the pool tests
// (e2e/pool). It speaks TURN over UDP with its own small client (pion/stun
// messages), so that it can follow 300 Try Alternate answers, which
// pion/turn's client does not; over TCP (session's tcp and tcp-relay
// transports) it uses pion/turn's client, which speaks RFC 6062.
//
// Usage:
//
//	poolclient calls -server VIP:PORT -peer ADDR -secret S -realm R -slots N -call D -rate PPS -stall D
//	poolclient session -server ADDR -transport udp|tcp|tcp-relay -identity I -peer ADDR -secret S -realm R -rate PPS -stall D
//	poolclient allocate -server ADDR -identity I -peer ADDR -secret S -realm R
//	poolclient echo -listen ADDR -timeout D [-tcp]
//	poolclient get -url URL
//
// calls runs -slots concurrent call slots; each makes -count calls one
// after the other, or with -count 0 calls until a line (or end of file)
// arrives on stdin. A call
// allocates through -server (a load balancer's virtual address), following
// ALTERNATE-SERVER redirects to the node named, binds a channel to -peer,
// sends -rate datagrams per second through the relay for -call, refreshes
// the allocation once midway and ends it with Refresh 0. When no echo comes
// back for -stall, the allocation counts as lost and the call goes on with a
// new one (from a new source port, so the load balancer may pick another
// node). Each event is a JSON line on stdout: allocated, lost, ended.
//
// session holds one allocation of -identity at -server (see session.go)
// until a line arrives on stdin or the server ends it; allocate makes one
// Allocate for -identity and reports whether it succeeded.
//
// echo returns every datagram to its sender until -timeout, and with -tcp
// the bytes of every TCP connection to the same address. get prints the
// HTTP status of a GET of -url, or "down" when the connection fails: the
// health check of the test's load balancer.
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/stunproto"
)

const (
	// rto and tries bound one transaction: RFC 8489 §6.2.1 retransmission,
	// shortened for a test network.
	rto   = 200 * time.Millisecond
	tries = 5
	// maxRedirects bounds the ALTERNATE-SERVER redirects of one Allocate:
	// a full sibling may send the client on to a draining one, and so on.
	maxRedirects = 5
	// maxAttempts bounds the failed Allocates of a call that lost its
	// allocation, past the call's end.
	maxAttempts = 20
	// channel is the channel number every call binds to its peer.
	channel = 0x4000
)

var (
	errUsage     = errors.New("poolclient: usage: poolclient calls|session|allocate|echo|get [flags]")
	errTimeout   = errors.New("poolclient: no answer")
	errRedirects = errors.New("poolclient: too many redirects")
)

// answerError is an error answer of the server to a request.
type answerError struct {
	method stun.Method
	server netip.AddrPort
	code   stun.ErrorCode
	reason string
}

func (e *answerError) Error() string {
	return fmt.Sprintf("poolclient: %v at %v: %d %s", e.method, e.server, e.code, e.reason)
}

// refusal returns the answerError of m, an error response to method.
func refusal(m *stun.Message, method stun.Method, server netip.AddrPort) error {
	var code stun.ErrorCodeAttribute
	_ = code.GetFrom(m)
	return &answerError{method: method, server: server, code: code.Code, reason: string(code.Reason)}
}

// failure is the event of an error: its text and, for an error answer,
// its code.
func failure(event string, err error) map[string]any {
	ev := map[string]any{"event": event, "error": err.Error()}
	if ae := (*answerError)(nil); errors.As(err, &ae) {
		ev["code"] = int(ae.code)
	}
	return ev
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// options are the flags of calls, session and allocate.
type options struct {
	server, peer  netip.AddrPort
	secret, realm string
	slots, count  int
	call, stall   time.Duration
	rate          int
	// identity and transport are session's and allocate's.
	identity, transport string
}

func run(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	server := fs.String("server", "", "TURN server IP:port (the load balancer's virtual address)")
	peer := fs.String("peer", "", "echo peer IP:port")
	listen := fs.String("listen", "", "echo: UDP address to listen on")
	timeout := fs.Duration("timeout", time.Minute, "echo: how long to run")
	echoTCP := fs.Bool("tcp", false, "echo: also echo TCP connections to -listen")
	var o options
	fs.StringVar(&o.secret, "secret", "", "REST API secret of the pool")
	fs.StringVar(&o.realm, "realm", "", "realm")
	fs.IntVar(&o.slots, "slots", 6, "concurrent calls")
	fs.IntVar(&o.count, "count", 0, "calls per slot (0: until a line on stdin)")
	url := fs.String("url", "", "get: the URL")
	fs.DurationVar(&o.call, "call", 3*time.Second, "duration of one call")
	fs.DurationVar(&o.stall, "stall", time.Second, "silence after which an allocation counts as lost")
	fs.IntVar(&o.rate, "rate", 50, "datagrams per second per call")
	fs.StringVar(&o.identity, "identity", "", "session, allocate: the identity the credential is issued to")
	fs.StringVar(&o.transport, "transport", "udp", "session: udp, tcp (TURN over TCP, UDP relay) or tcp-relay (RFC 6062)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("poolclient: %w", err)
	}
	if o.rate <= 0 {
		return fmt.Errorf("%w: -rate must be positive", errUsage)
	}
	switch args[0] {
	case "echo":
		return echo(*listen, *timeout, *echoTCP)
	case "get":
		return get(*url)
	case "calls", "session", "allocate":
		var err error
		if o.server, err = netip.ParseAddrPort(*server); err != nil {
			return fmt.Errorf("poolclient: -server: %w", err)
		}
		if o.peer, err = netip.ParseAddrPort(*peer); err != nil {
			return fmt.Errorf("poolclient: -peer: %w", err)
		}
		if args[0] == "calls" {
			return calls(o)
		}
		if o.identity == "" {
			return fmt.Errorf("%w: %s needs -identity", errUsage, args[0])
		}
		if args[0] == "allocate" {
			return allocateOnce(o)
		}
		return session(o)
	}
	return errUsage
}

// echo returns every datagram to its sender until timeout and, with
// withTCP, the bytes of every TCP connection to listen.
func echo(listen string, timeout time.Duration, withTCP bool) error {
	c, err := net.ListenPacket("udp", listen)
	if err != nil {
		return fmt.Errorf("poolclient: %w", err)
	}
	defer c.Close()
	if withTCP {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return fmt.Errorf("poolclient: %w", err)
		}
		defer ln.Close()
		go echoTCP(ln)
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	emit(map[string]any{"event": "listening", "addr": c.LocalAddr().String()})
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return nil // the deadline
		}
		if _, err := c.WriteTo(buf[:n], from); err != nil {
			return fmt.Errorf("poolclient: echo: %w", err)
		}
	}
}

// echoTCP returns the bytes of each connection ln accepts to its sender,
// until ln closes.
func echoTCP(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

// get prints the status code of a GET of url, or "down".
func get(url string) error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Println("down")
		return nil
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	return nil
}

// out serialises the JSON lines of concurrent slots.
var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v map[string]any) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(v)
}

// stdinLine returns a channel closed once stdin has a line or ends.
func stdinLine() <-chan struct{} {
	stop := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		close(stop)
	}()
	return stop
}

// calls runs the slots until stdin has a line or ends.
func calls(o options) error {
	var stop <-chan struct{}
	if o.count == 0 {
		stop = stdinLine()
	}
	var wg sync.WaitGroup
	for slot := range o.slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; o.count == 0 || n < o.count; n++ {
				select {
				case <-stop:
					return
				default:
				}
				runCall(o, slot, n)
			}
		}()
	}
	wg.Wait()
	emit(map[string]any{"event": "done"})
	return nil
}

// runCall makes one call of slot: allocations (a new one after each loss)
// until the call's time is up. A call that lost its allocation goes on
// until a new one has relayed for half a call, or maxAttempts Allocates
// have failed: a caller does not hang up because the relay went away.
func runCall(o options, slot, n int) {
	end := time.Now().Add(o.call)
	id := fmt.Sprintf("%d.%d", slot, n)
	recovering := false
	for failures := 0; time.Now().Before(end) || (recovering && failures < maxAttempts); {
		a, err := allocate(o, "call-"+id)
		if err != nil {
			// Try again from a new source port.
			failures++
			emit(map[string]any{"event": "failed", "call": id, "error": err.Error()})
			time.Sleep(100 * time.Millisecond) // a client's back-off
			continue
		}
		emit(map[string]any{"event": "allocated", "call": id, "server": a.server.String(),
			"relayed": a.relayed.String(), "redirects": a.redirects})
		if recovering {
			end = later(end, time.Now().Add(o.call/2))
		}
		sent, received, lost := a.media(o, end)
		ev := map[string]any{"call": id, "server": a.server.String(), "relayed": a.relayed.String(),
			"sent": sent, "received": received}
		if lost {
			ev["event"] = "lost"
			emit(ev)
			a.conn.Close()
			recovering = true
			continue
		}
		ev["event"] = "ended"
		if err := a.refresh(0); err != nil {
			ev["error"] = err.Error()
		}
		emit(ev)
		a.conn.Close()
		return
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// alloc is one allocation of a call.
type alloc struct {
	conn      *net.UDPConn
	server    netip.AddrPort // where the allocation lives (after redirects)
	relayed   netip.AddrPort
	redirects int
	user      string
	key       stun.MessageIntegrity
	realm     stun.Realm
	nonce     stun.Nonce
	resp      chan *stun.Message
	data      chan struct{}
	peer      netip.AddrPort
}

// allocate makes an allocation through o.server with a credential issued
// to identity, following redirects.
func allocate(o options, identity string) (*alloc, error) {
	user, pass, err := auth.Issue(auth.Secret{ID: "pool", Value: []byte(o.secret)}, identity, time.Now().Add(time.Hour))
	if err != nil {
		return nil, fmt.Errorf("poolclient: %w", err)
	}
	conn, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return nil, fmt.Errorf("poolclient: %w", err)
	}
	a := &alloc{conn: conn, server: o.server, user: user, peer: o.peer,
		resp: make(chan *stun.Message, 4), data: make(chan struct{}, 1024)}
	go a.read()
	for {
		a.realm, a.nonce, a.key = nil, nil, nil
		// The first Allocate carries no credentials: 401 with realm and nonce.
		m, err := a.do(stun.NewType(stun.MethodAllocate, stun.ClassRequest), stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
		if err == nil && m.Type.Class == stun.ClassErrorResponse {
			var code stun.ErrorCodeAttribute
			_ = code.GetFrom(m)
			if code.Code == stun.CodeUnauthorized {
				_ = a.realm.GetFrom(m)
				_ = a.nonce.GetFrom(m)
				a.key = stun.NewLongTermIntegrity(user, string(a.realm), pass)
				m, err = a.do(stun.NewType(stun.MethodAllocate, stun.ClassRequest), stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP},
					stunproto.Lifetime{Duration: 10 * time.Minute})
			}
		}
		if err != nil {
			conn.Close()
			return nil, err
		}
		if m.Type.Class == stun.ClassSuccessResponse {
			var ra stunproto.XORRelayedAddress
			if err := ra.GetFrom(m); err != nil {
				conn.Close()
				return nil, fmt.Errorf("poolclient: XOR-RELAYED-ADDRESS: %w", err)
			}
			a.relayed = ra.Addr
			break
		}
		var code stun.ErrorCodeAttribute
		_ = code.GetFrom(m)
		if code.Code != stun.CodeTryAlternate {
			conn.Close()
			return nil, refusal(m, stun.MethodAllocate, a.server)
		}
		// RFC 8489 §10: retry at the ALTERNATE-SERVER, from the start.
		var alt stun.AlternateServer
		if err := alt.GetFrom(m); err != nil {
			conn.Close()
			return nil, fmt.Errorf("poolclient: 300 without ALTERNATE-SERVER: %w", err)
		}
		if a.redirects++; a.redirects > maxRedirects {
			conn.Close()
			return nil, errRedirects
		}
		ip, _ := netip.AddrFromSlice(alt.IP)
		a.server = netip.AddrPortFrom(ip.Unmap(), uint16(alt.Port))
	}
	peer := stunproto.XORPeerAddress{Addr: o.peer}
	for _, method := range []stun.Method{stun.MethodCreatePermission, stun.MethodChannelBind} {
		setters := []stun.Setter{peer}
		if method == stun.MethodChannelBind {
			setters = append(setters, stunproto.ChannelNumber(channel))
		}
		if err := a.expectSuccess(method, setters...); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return a, nil
}

// read delivers STUN messages to resp and counts ChannelData from the
// peer on data, until the socket closes.
func (a *alloc) read() {
	buf := make([]byte, 1500)
	for {
		n, err := a.conn.Read(buf)
		if err != nil {
			return
		}
		if stunproto.IsChannelData(buf[:n]) {
			select {
			case a.data <- struct{}{}:
			default:
			}
			continue
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if m.Decode() == nil {
			select {
			case a.resp <- m:
			default:
			}
		}
	}
}

// do runs one transaction with the server, retransmitting the request;
// 438 Stale Nonce is answered once by a retry with the new nonce.
func (a *alloc) do(t stun.MessageType, setters ...stun.Setter) (*stun.Message, error) {
	for stale := 0; ; stale++ {
		req, err := a.build(t, setters...)
		if err != nil {
			return nil, err
		}
		m, err := a.roundTrip(req)
		if err != nil {
			return nil, err
		}
		var code stun.ErrorCodeAttribute
		if m.Type.Class == stun.ClassErrorResponse && code.GetFrom(m) == nil && code.Code == stun.CodeStaleNonce && stale == 0 && a.key != nil {
			_ = a.nonce.GetFrom(m)
			continue
		}
		return m, nil
	}
}

// build makes a request with setters and, once a key is known, the
// credentials.
func (a *alloc) build(t stun.MessageType, setters ...stun.Setter) (*stun.Message, error) {
	all := append([]stun.Setter{stun.TransactionID, t}, setters...)
	if a.key != nil {
		all = append(all, stun.NewUsername(a.user), a.realm, a.nonce, a.key)
	}
	all = append(all, stun.Fingerprint)
	m, err := stun.Build(all...)
	if err != nil {
		return nil, fmt.Errorf("poolclient: build: %w", err)
	}
	return m, nil
}

// roundTrip sends req to a.server until an answer with its transaction ID
// arrives.
func (a *alloc) roundTrip(req *stun.Message) (*stun.Message, error) {
	to := net.UDPAddrFromAddrPort(a.server)
	for range tries {
		if _, err := a.conn.WriteToUDP(req.Raw, to); err != nil {
			return nil, fmt.Errorf("poolclient: %w", err)
		}
		timer := time.NewTimer(rto)
	wait:
		for {
			select {
			case m := <-a.resp:
				if m.TransactionID == req.TransactionID {
					timer.Stop()
					return m, nil
				}
			case <-timer.C:
				break wait
			}
		}
	}
	return nil, fmt.Errorf("%w from %v (%v)", errTimeout, a.server, req.Type)
}

// expectSuccess runs a request that must succeed.
func (a *alloc) expectSuccess(method stun.Method, setters ...stun.Setter) error {
	m, err := a.do(stun.NewType(method, stun.ClassRequest), setters...)
	if err != nil {
		return err
	}
	if m.Type.Class != stun.ClassSuccessResponse {
		return refusal(m, method, a.server)
	}
	return nil
}

// refresh sends Refresh with lifetime (0 deletes the allocation).
func (a *alloc) refresh(lifetime time.Duration) error {
	return a.expectSuccess(stun.MethodRefresh, stunproto.Lifetime{Duration: lifetime})
}

// media sends ChannelData at o.rate until end, refreshing once midway; it
// reports lost when no echo came back for o.stall.
func (a *alloc) media(o options, end time.Time) (sent, received int, lost bool) {
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	pkt := channelData()
	to := net.UDPAddrFromAddrPort(a.server)
	lastEcho := time.Now()
	refreshAt := time.Now().Add(time.Until(end) / 2)
	for time.Now().Before(end) {
		select {
		case <-a.data:
			received++
			lastEcho = time.Now()
			continue
		case <-tick.C:
		}
		if _, err := a.conn.WriteToUDP(pkt, to); err == nil {
			sent++
		}
		if time.Since(lastEcho) > o.stall {
			return sent, received, true
		}
		if !refreshAt.IsZero() && time.Now().After(refreshAt) {
			refreshAt = time.Time{}
			if err := a.refresh(10 * time.Minute); err != nil {
				return sent, received, true
			}
		}
	}
	// The echoes of the last datagrams.
	drain := time.NewTimer(200 * time.Millisecond)
	defer drain.Stop()
	for {
		select {
		case <-a.data:
			received++
		case <-drain.C:
			return sent, received, false
		}
	}
}

// channelData returns a ChannelData message of 64 random bytes on the
// calls' channel.
func channelData() []byte {
	pkt := make([]byte, 4+64)
	binary.BigEndian.PutUint16(pkt[0:], channel)
	binary.BigEndian.PutUint16(pkt[2:], 64)
	_, _ = rand.Read(pkt[4:])
	return pkt
}
