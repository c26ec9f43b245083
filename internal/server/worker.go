package server

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/msdialect"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/tcprelay"
	"github.com/avedge/avedge/internal/stunproto"
)

// socket is what the handlers need of a UDP socket. *datapath.Conn satisfies
// it; tests and fuzz targets use fakes.
type socket interface {
	WriteTo(b []byte, to netip.AddrPort) error
	// QueueTo sends b with the TOS byte or Traffic Class tos (0: the
	// default), so that DSCP and ECN markings cross the relay. On the
	// data path's sockets it queues b for the sendmmsg(2) at the end of
	// the worker's round (datapath.Conn.QueueTo); the outcome of a queued
	// datagram is counted in Stats.DataPath, not returned.
	QueueTo(b []byte, to netip.AddrPort, tos uint8) error
	// SetDontFragment(true) makes the socket send every datagram with DF.
	SetDontFragment(on bool) error
	LocalAddr() netip.AddrPort
	Close() error
}

// listener is what a worker answers a client through: its client-facing
// UDP socket for one configured address, or a client's TCP or TLS
// connection (conn set, sock is conn).
type listener struct {
	sock socket
	addr netip.AddrPort
	conn *streamConn
	// redirect is where a front listener sends Allocates; invalid for
	// others.
	redirect netip.AddrPort
	// stunOnly: the listener answers Binding requests only.
	stunOnly bool
	// auth checks the requests that reach the listener: Options.Auth, or
	// the Bound view of the tenant the listener is bound to.
	auth *auth.Authenticator
}

// proto is the transport protocol of the listener's 5-tuples.
func (l *listener) proto() allocation.Protocol {
	if l.conn != nil {
		return allocation.TCP
	}
	return allocation.UDP
}

// relay is one relayed transport address of a session and its socket.
type relay struct {
	sock socket // nil when the session has no relayed address of this family
	addr netip.AddrPort
	df   bool // DF was set on sock (RFC 8656 §7.2 step 4, §11.2)
}

// session ties an allocation to its relay sockets, at most one per address
// family (two for a dual allocation), and to the listener that answers its
// client.
type session struct {
	alloc  *allocation.Allocation
	relays [families]relay // indexed by famV4 and famV6
	client *listener
	owner  string // whom the allocation counts against in the quota
	// counted is the kind the allocation is counted under in the
	// allocations gauge (see worker.allocationCreated).
	counted stats.AllocationKind
	start   int64 // when the allocation was created (Unix ns), for its stats.Record
	// id names the session for operators (Server.Sessions, EndSession).
	id uint64
	// reported is when the last interim record of the session was due
	// (Unix ns; its start before the first).
	reported int64
	// deadline is when the allocation ends however it is refreshed (Unix
	// ns): start plus Options.MaxAllocationAge.
	deadline int64
	// What the Allocate success response carried besides the addresses,
	// kept to answer a retransmission identically: the token of the
	// reserved next port (EVEN-PORT R=1) and why half of a dual
	// allocation is missing.
	token    stunproto.ReservationToken
	reserved bool
	addrErr  stunproto.AddressErrorCode // Code 0 when none
	// tcp is the relayed address of an RFC 6062 TCP allocation, also in
	// relays; nil for UDP allocations.
	tcp *tcpRelay
	// pend is what the session relayed this round (see worker.EndRound).
	pend sessionTally
	// bw are the allocation's bandwidth buckets, by direction; user is
	// the bucket pair shared by the owner's allocations (nil: no
	// per-user cap).
	bw   [directions]policy.Bucket
	user *userBandwidth
	// ms is the state of an allocation made in the [MS-TURN] dialect;
	// nil for RFC TURN.
	ms *msdialect.State
}

// relayFor returns the relay of s that serves peers of ip's family, or nil
// when s has no relayed address of that family.
func (s *session) relayFor(ip netip.Addr) *relay {
	r := &s.relays[familyOf(ip)]
	if r.sock == nil {
		return nil
	}
	return r
}

// relayOpener binds relay sockets for a worker and registers them so that
// datagrams reaching them come back to handlePeer.
type relayOpener interface {
	// open binds a UDP socket on addr whose packets are delivered with s as owner.
	open(addr netip.AddrPort, s *session) (socket, error)
	// close deregisters and closes a relay socket that open returned.
	close(sock socket)
}

// worker is the per-core request handler and forwarder. Everything in it is
// owned by one goroutine: the datapath worker's loop.
type worker struct {
	env     *shared
	table   *allocation.Table
	answers *answerCache // answers kept for retransmitted requests
	opener  relayOpener
	dp      *datapath.Worker // the loop that runs this worker (nil in unit tests)
	// limit bounds unauthenticated requests per source; nil: no limit.
	limit *policy.SourceLimiter
	// nextInterim is when the worker next looks for interim records due.
	nextInterim time.Time
	// nextLimit is a limit set by SetUnauthenticatedLimit, not yet taken.
	nextLimit atomic.Pointer[limitSwap]

	req, resp     *stun.Message
	request       request // the request being handled (see handleRequest)
	retrying      bool    // a request that waited for a credential lookup runs again (retry)
	unknown       []stun.AttrType
	peers         []netip.AddrPort
	ips           []netip.Addr
	expired       []netip.AddrPort     // scratch for expireReservations
	expiredConns  []*tcprelay.PeerConn // scratch for expireTCP
	indicationSeq uint64
	off           offloads // channels in the kernel (Options.Offload)
	// ms handles the [MS-TURN] dialect for this worker (see dialect.go).
	ms *msdialect.Handler
	// nextAlternate takes the siblings of a redirect in turn.
	nextAlternate uint32
	// dirty lists the sessions that relayed packets this round, whose
	// counts EndRound publishes.
	dirty []*session

	p tally    // counts of this round, published by EndRound
	c counters // published counts
}

// dirtySessions is the initial room for the sessions that relay packets in
// one round; the list grows (once) if a round has more.
const dirtySessions = 256

func newWorker(env *shared, opener relayOpener) *worker {
	w := &worker{
		env:     env,
		table:   allocation.NewTable(env.alloc),
		answers: newAnswerCache(answerCacheSize, answerCacheTTL),
		opener:  opener,
		req:     new(stun.Message),
		resp:    new(stun.Message),
		unknown: make([]stun.AttrType, 0, 8),
		peers:   make([]netip.AddrPort, 0, 8),
		dirty:   make([]*session, 0, dirtySessions),
	}
	w.c.tenants = make([]tenantCounters, len(env.tenants.names))
	w.ms = msdialect.NewHandler(msCore{w})
	return w
}

// HandlePacket implements datapath.Handler: it routes a datagram to the
// client side or the peer side by the socket it arrived on, with the TOS
// byte it arrived with, which the forwarders carry over (RFC 8656 §14).
func (w *worker) HandlePacket(c *datapath.Conn, from netip.AddrPort, buf []byte, off, n int, meta datapath.Meta) {
	switch o := c.Owner.(type) {
	case *session:
		w.handlePeer(o, from, buf, off, n, meta.TOS)
	case *listener:
		w.handleClient(o, from, buf, off, n, meta.TOS)
	}
}

// handleClient handles one datagram from a client, which arrived with the
// TOS byte tos. Its 5-tuple is looked up once, and that one decision picks
// the dialect: a session's own (see fromMSClient), or for a 5-tuple without
// one, [MS-TURN] when the dialect is served and the datagram is one of its
// messages (msturn.Is), else RFC TURN (fromClient). An [MS-TURN]
// allocation that expired ends here (msUnlessExpired), leaving its 5-tuple
// free, as RFC Allocate does with an expired RFC one. Stream connections
// choose their dialect when they open (see streamConn.deliver).
func (w *worker) handleClient(l *listener, from netip.AddrPort, buf []byte, off, n int, tos uint8) {
	b := buf[off : off+n]
	s := w.lookup(l, from)
	if s != nil && s.ms != nil {
		now := w.env.clock.Now()
		if s = w.msUnlessExpired(s, now); s != nil {
			w.fromMSClient(s, l, from, b, tos, now)
			return
		}
	}
	if s == nil && w.msClaims(l, b) {
		w.ms.Message(l, from, b, tos, nil)
		return
	}
	w.fromClient(s, l, from, b, tos)
}

// msClaims reports whether a datagram b that reached the UDP listener l is
// a message of [MS-TURN], when the dialect is served there (stream
// connections choose their dialect when they open; a STUN-only listener
// serves none: its MS-TURN datagrams are dropped as malformed).
func (w *worker) msClaims(l *listener, b []byte) bool {
	return w.env.msTurn && l.conn == nil && !l.stunOnly && msturn.Is(b)
}

// fromClient handles a datagram from a client of RFC TURN, whose 5-tuple
// has the session s (nil: none): ChannelData is forwarded without STUN
// parsing; STUN goes to the request and indication handlers. Off that
// path, an [MS-TURN] message where an RFC allocation lives is answered in
// its dialect (437, see msdialect); anything else is dropped and
// counted.
func (w *worker) fromClient(s *session, l *listener, from netip.AddrPort, b []byte, tos uint8) {
	switch stunproto.Classify(b) {
	case stunproto.KindChannelData:
		w.handleChannelData(s, b, tos)
	case stunproto.KindSTUN:
		w.handleSTUN(s, false, l, from, b, tos)
	default:
		if s != nil && w.msClaims(l, b) {
			w.ms.Message(l, from, b, tos, s)
			return
		}
		w.p.drop(stats.DropMalformed)
	}
}

// handleSTUN decodes a STUN message from a client and hands it to the
// request or Send indication handler. s is the session of its 5-tuple (nil:
// none); held tells that the 5-tuple is held by an allocation RFC TURN
// cannot use (one of [MS-TURN]): requests that need an allocation get 437
// and Send indications are dropped.
func (w *worker) handleSTUN(s *session, held bool, l *listener, from netip.AddrPort, b []byte, tos uint8) {
	req := w.req
	req.Raw = append(req.Raw[:0], b...)
	if err := req.Decode(); err != nil {
		w.p.drop(stats.DropMalformed)
		return
	}
	// RFC 8489 §7.3: a FINGERPRINT that does not match means the datagram is
	// not (or no longer) a STUN message: discard it.
	if req.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(req) != nil {
		w.p.drop(stats.DropBadFingerprint)
		return
	}
	switch req.Type.Class {
	case stun.ClassRequest:
		w.takeLimit()
		w.handleRequest(l, from, req, s, held)
	case stun.ClassIndication:
		switch {
		case req.Type.Method != stun.MethodSend:
			w.p.drop(stats.DropUnexpected)
		case held:
			w.p.drop(stats.DropBadIndication)
		default:
			w.handleSend(s, req, tos)
		}
	default:
		w.p.drop(stats.DropUnexpected)
	}
}

// lookup returns the live session of the client 5-tuple, or nil.
func (w *worker) lookup(l *listener, from netip.AddrPort) *session {
	a := w.table.Get(allocation.FiveTuple{Client: from, Server: l.addr, Proto: l.proto()})
	if a == nil {
		return nil
	}
	s, _ := a.Relay.(*session)
	return s
}
