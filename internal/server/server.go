package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/stream"
)

// DefaultMaxAllocationAge is Options.MaxAllocationAge unless set: a
// working day's calls, and no allocation lives on for ever on one
// credential.
const DefaultMaxAllocationAge = 24 * time.Hour

var (
	// ErrNoListeners is returned by New when no client listener could be bound.
	ErrNoListeners = errors.New("server: no listener could be opened")
	// ErrStarted is returned by Run on a server that already ran or was closed.
	ErrStarted = errors.New("server: already started or closed")
)

// Options configures a Server. The edge builds it from the configuration
// (internal/edge); tests build it by hand.
type Options struct {
	// Software is the SOFTWARE attribute of responses; empty leaves it out.
	Software string
	// Listeners are the UDP addresses clients reach; port 0 picks a free port.
	Listeners []netip.AddrPort
	// FrontListeners are UDP listeners that send clients on to the edge's
	// own address (see FrontListener).
	FrontListeners []FrontListener
	// StreamListeners are the TCP addresses clients reach with TURN over
	// TCP and TLS (RFC 8656 §3.1).
	StreamListeners []StreamListener
	// Stream bounds the TCP and TLS client connections.
	Stream stream.Limits
	// SkipUnavailable skips a listener whose address the host lacks (such as
	// ::1 on a host without IPv6) instead of failing, and likewise stops
	// offering IPv6 relayed addresses when RelayAddrV6 cannot be bound.
	SkipUnavailable bool
	// RelayAddr is the IPv4 address relay sockets bind to and advertise;
	// unset on an IPv6-only edge (RelayAddrV6 set alone).
	RelayAddr netip.Addr
	// RelayAdvertised, if valid, is the public IPv4 address of a 1:1 NAT in
	// front of RelayAddr: XOR-RELAYED-ADDRESS carries it, with the relay
	// port, instead of RelayAddr, to which relay sockets still bind.
	RelayAdvertised netip.Addr
	// RelayAddrV6, if valid, is the IPv6 address of IPv6 relayed transport
	// addresses (RFC 8656 §7.2, RFC 6156), which clients ask for with
	// REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY. The zero Addr
	// offers IPv4 only: such requests get 440.
	RelayAddrV6 netip.Addr
	// RelayAdvertisedV6, if valid, is the outside IPv6 address of a 1:1
	// translation (NPTv6) in front of RelayAddrV6: XOR-RELAYED-ADDRESS
	// carries it, with the relay port, instead of RelayAddrV6, to which
	// relay sockets still bind.
	RelayAdvertisedV6 netip.Addr
	// PortMin and PortMax bound the relay port range, used on each relay
	// address.
	PortMin, PortMax int
	// Allocation holds lifetimes and per-allocation caps.
	Allocation allocation.Config
	// Self are the edge's own addresses: relay (IPv4, IPv6, advertised),
	// listeners, admin and credential service, interfaces, and every
	// address of the host (SetSelf follows changes). A peer on one of them
	// is refused (403, or a Send dropped as peer_denied) unless its port
	// is a relay port, so that no allocation reaches a service of the
	// edge's host, while two allocations of the edge still reach each
	// other. The edge fills it in; empty refuses no address.
	Self []netip.Addr
	// STUNListeners are UDP client listeners that answer STUN Binding
	// requests only: TURN requests get 400 (a method this STUN server
	// does not know, RFC 8489 §6.3.1).
	STUNListeners []netip.AddrPort
	// NoTCPRelays refuses Allocates for TCP relayed addresses (RFC 6062)
	// with 442 Unsupported Transport Protocol.
	NoTCPRelays bool
	// PeerPorts are the ports of the peers that ChannelBind, Send, RFC
	// 6062 Connect and the [MS-TURN] Send and Set Active Destination
	// reach; empty allows every port but 0, which is always refused.
	PeerPorts []PortRange
	// MaxAllocationAge is the longest an allocation lives, refreshed or
	// not: lifetimes are granted up to it, and at it the allocation ends
	// (its record says "max age"). It is what bounds an allocation whose
	// credential expired, as requests on it authenticate with that
	// credential (auth.Authenticate). 0 means DefaultMaxAllocationAge.
	MaxAllocationAge time.Duration
	// AllocationsPerUser and AllocationsTotal are the quotas (486 and 508).
	AllocationsPerUser, AllocationsTotal int
	// PortsPerUser bounds the relay ports one user holds (486): one per
	// relayed address of its allocations, and one per port reserved for
	// its RESERVATION-TOKEN until it is claimed or expires (see
	// worker.portsNeeded). 0 sets no limit.
	PortsPerUser int
	// Auth checks credentials and issues nonces.
	Auth *auth.Authenticator
	// Policy decides which peers may be relayed to.
	Policy *policy.PeerPolicy
	// Workers is the number of packet workers; 0 means one per CPU on
	// Linux, one on the portable data path.
	Workers int
	// BatchDelay is the workers' datapath.WorkerOptions.BatchDelay: how
	// long an idle worker waits for more packets before it blocks.
	BatchDelay time.Duration
	// Buffers sizes the kernel buffers of client and relay sockets.
	Buffers SocketBuffers
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// OnAllocationEnd, if set, is called on the worker goroutine for every
	// allocation that ends. It must not block.
	OnAllocationEnd func(stats.Record)
	// InterimRecords, if positive, is how often each live allocation
	// older than it is reported to OnInterim (Record.Interim, its totals
	// so far), so that accounting need not wait for a long call to end.
	// OnInterim is called on the worker goroutine and must not block.
	InterimRecords time.Duration
	OnInterim      func(stats.Record)
	// UnauthenticatedLimit bounds, per source address and per worker, the
	// Binding requests, the requests without MESSAGE-INTEGRITY(-SHA256)
	// and the 401 and 438 answers (see sourceLimitEntries); over it a
	// request is dropped unanswered and counted under DropRateLimited. The
	// zero value sets no limit.
	UnauthenticatedLimit policy.SourceLimit
	// TCPConnectionsPerAllocation bounds the peer connections (connecting,
	// waiting for ConnectionBind, or relaying) of one RFC 6062 TCP
	// allocation; 0 means 64.
	TCPConnectionsPerAllocation int
	// AlternateServers are sibling edges that Allocate requests are sent
	// to while draining (see Drain), in turn, of the address family of the
	// listener the request reached; empty means PoolAlternates.
	AlternateServers []netip.AddrPort
	// PoolAlternates are sibling edges that Allocate requests are sent to
	// (300 Try Alternate) when this edge is full: at AllocationsTotal or
	// Capacity, or without a free relay port. Empty: such requests get
	// 508.
	PoolAlternates []netip.AddrPort
	// DrainTimeout bounds a drain; 0 means DefaultDrainTimeout.
	DrainTimeout time.Duration
	// MSTURN serves the [MS-TURN] dialect of Lync and Skype for
	// Business beside RFC TURN on the client listeners. Off (the zero
	// Options), its datagrams are dropped as malformed, a pseudo-TLS
	// ClientHello is taken for real TLS (whose handshake fails) and MS
	// framing for broken TURN.
	MSTURN bool
	// BandwidthPerAllocation caps the payload bytes each allocation
	// relays, per direction; BandwidthPerUser caps the sum over a user's
	// allocations (see quotaOwner), per direction. Excess packets are
	// dropped and counted under DropBandwidth. The zero values are off.
	BandwidthPerAllocation, BandwidthPerUser policy.Bandwidth
	// Capacity is the relayed bandwidth, in bytes per second both ways
	// together, beyond which new allocations are refused with 508
	// (Insufficient Capacity) while live ones continue. It is measured
	// over about a second on the workers' ticks; 0 sets no limit.
	Capacity uint64
	// Offload, if set, relays the channel data of UDP clients in the
	// kernel (see Offload); nil relays everything in user space.
	Offload Offload
	// Tenants are the quotas and listeners of the tenants of Auth beside
	// the default one (see Tenant).
	Tenants []Tenant
}

// shared is the read-only environment and the few concurrency-safe pieces
// that every worker uses.
type shared struct {
	software     stun.Setter
	noTCPRelays  bool // Options.NoTCPRelays
	auth         *auth.Authenticator
	policy       atomic.Pointer[policy.PeerPolicy] // swapped by SetPolicy
	families     [families]relayFamily             // relay address and port pool per family
	reservations *allocation.Reservations
	advertised   [families]netip.Addr        // Options.RelayAdvertised and RelayAdvertisedV6, by family
	quota        *allocation.Quota           // counts; no limits of its own
	quotaLimits  atomic.Pointer[quotaLimits] // swapped by SetQuotas
	owners       *reservationOwners          // whose quota each reserved port counts against
	drain        *drainState
	pool         alternates // siblings for a full edge
	alloc        allocation.Config
	maxAge       time.Duration            // Options.MaxAllocationAge
	peers        atomic.Pointer[peerRule] // Options.Self and PeerPorts; swapped by SetSelf
	sessionIDs   atomic.Uint64            // the last session ID given; starts at random
	clock        clock.Clock
	log          *slog.Logger
	onEnd        func(stats.Record)
	interim      time.Duration // Options.InterimRecords; 0 with no OnInterim
	onInterim    func(stats.Record)
	tcp          *tcpShared // RFC 6062 TCP relays
	waits        *authWaits // requests waiting for an external credential lookup
	bw           bandwidth  // bandwidth caps and per-user buckets
	capacity     capacity   // total bandwidth beyond which Allocate gets 508
	msTurn       bool       // the [MS-TURN] dialect is served (Options.MSTURN)
	offload      Offload    // Options.Offload; nil: none
	tenants      *tenantTable
}

// release hands the port of a relayed address back to its family's pool.
func (e *shared) release(addr netip.AddrPort) {
	if p := e.families[familyOf(addr.Addr())].pool; p != nil {
		p.Release(int(addr.Port()))
	}
}

// Server is a running STUN/TURN relay over UDP, TCP and TLS.
type Server struct {
	env     *shared
	workers []*workerLoop
	addrs   []netip.AddrPort
	// stream serves the TCP and TLS clients; streamSeed spreads their
	// connections over the workers; streamStop is closed when the server
	// stops, ending the waits for a worker of connections that close.
	stream         *stream.Server
	streamSeed     maphash.Seed
	streamStop     chan struct{}
	streamStopOnce sync.Once
	buffers        SocketBuffers

	mu          sync.Mutex
	started     bool
	cancel      context.CancelFunc
	done        chan struct{}
	releaseOnce sync.Once
}

// workerLoop pairs a worker's handler with its datapath loop.
type workerLoop struct {
	w         *worker
	dp        *datapath.Worker
	listeners []*datapath.Conn
}

// New binds the listeners of opts and prepares the workers; Run starts them.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil || opts.Policy == nil {
		return nil, errors.New("server: Auth and Policy are required")
	}
	switch a := opts.RelayAddr; {
	case !a.IsValid() && !opts.RelayAddrV6.IsValid():
		return nil, errors.New("server: no relay address: RelayAddr, RelayAddrV6 or both are required")
	case a.IsValid() && (!a.Is4() || a.IsUnspecified()):
		return nil, fmt.Errorf("server: relay address %v: not a concrete IPv4 address", a)
	}
	if a := opts.RelayAdvertised; a.IsValid() && (!a.Is4() || a.IsUnspecified()) {
		return nil, fmt.Errorf("server: advertised relay address %v: not a concrete IPv4 address", a)
	}
	if v6 := opts.RelayAddrV6; v6.IsValid() && (!v6.Is6() || v6.Is4In6() || v6.IsUnspecified() || v6.Zone() != "") {
		return nil, fmt.Errorf("server: IPv6 relay address %v: not a concrete IPv6 address", v6)
	}
	if a := opts.RelayAdvertisedV6; a.IsValid() && (!a.Is6() || a.Is4In6() || a.IsUnspecified() || a.Zone() != "") {
		return nil, fmt.Errorf("server: advertised IPv6 relay address %v: not a concrete IPv6 address", a)
	}
	buffers, err := opts.Buffers.withDefaults()
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	env := &shared{
		auth:        opts.Auth,
		quota:       allocation.NewQuota(0, 0),
		owners:      newReservationOwners(),
		drain:       newDrainState(drainAlternates(opts), opts.DrainTimeout),
		pool:        newAlternates(opts.PoolAlternates),
		alloc:       opts.Allocation.WithDefaults(),
		maxAge:      cmp.Or(opts.MaxAllocationAge, DefaultMaxAllocationAge),
		clock:       clk,
		log:         log,
		onEnd:       opts.OnAllocationEnd,
		msTurn:      opts.MSTURN,
		noTCPRelays: opts.NoTCPRelays,
		tcp:         newTCPShared(opts.TCPConnectionsPerAllocation),
		waits:       newAuthWaits(),
		offload:     opts.Offload,
	}
	env.sessionIDs.Store(randomUint64())
	env.peers.Store(newPeerRule(opts.Self, opts.PortMin, opts.PortMax, opts.PeerPorts))
	if opts.OnInterim != nil && opts.InterimRecords > 0 {
		env.interim, env.onInterim = opts.InterimRecords, opts.OnInterim
	}
	env.capacity.limit = opts.Capacity
	env.policy.Store(opts.Policy)
	env.quotaLimits.Store(&quotaLimits{perUser: opts.AllocationsPerUser, total: opts.AllocationsTotal, ports: opts.PortsPerUser})
	if env.tenants, err = newTenantTable(opts.Auth, opts.Tenants, *env.quotaLimits.Load()); err != nil {
		return nil, err
	}
	if err := checkTenantListeners(&opts); err != nil {
		return nil, err
	}
	env.bw.set(tenantCaps(&opts, env.tenants.names), clk.Now())
	env.advertised = [families]netip.Addr{famV4: opts.RelayAdvertised, famV6: opts.RelayAdvertisedV6}
	ports := 0
	for fam, addr := range [families]netip.Addr{famV4: opts.RelayAddr, famV6: opts.RelayAddrV6} {
		if !addr.IsValid() {
			continue
		}
		if fam == famV6 {
			if err := probeRelay(addr); err != nil {
				if !opts.SkipUnavailable || !errors.Is(err, datapath.ErrAddrNotAvailable) {
					return nil, fmt.Errorf("server: IPv6 relay address: %w", err)
				}
				log.Warn("IPv6 relayed addresses not offered: address not available on this host", "address", addr)
				continue
			}
		}
		pool, err := allocation.NewPortPool(opts.PortMin, opts.PortMax, nil)
		if err != nil {
			return nil, fmt.Errorf("server: relay ports: %w", err)
		}
		env.families[fam] = relayFamily{addr: addr, pool: pool}
		ports += pool.Size()
	}
	if ports == 0 {
		return nil, errors.New("server: no relay address available on this host")
	}
	// Each reservation holds a port, so the ports bound the table.
	env.reservations = allocation.NewReservations(ports, allocation.ReservationHold, nil)
	if opts.Software != "" {
		env.software = stun.NewSoftware(opts.Software)
	}
	n := opts.Workers
	switch {
	case n > 0:
	case datapath.DefaultPath == datapath.PathPortable:
		// Outside Linux the kernel does not spread one address's clients
		// over SO_REUSEPORT sockets: more workers would idle.
		n = 1
	default:
		n = runtime.GOMAXPROCS(0)
	}
	s := &Server{env: env, buffers: buffers}
	for range n {
		w := newWorker(env, nil)
		if w.limit, err = newSourceLimiter(opts.UnauthenticatedLimit, clk); err != nil {
			s.release()
			return nil, err
		}
		dp, err := datapath.NewWorker(w, datapath.WorkerOptions{Clock: clk, BatchDelay: opts.BatchDelay})
		if err != nil {
			s.release()
			return nil, fmt.Errorf("server: %w", err)
		}
		w.opener, w.dp = &dpRelays{dp: dp, cfg: buffers.relay()}, dp
		env.capacity.counters = append(env.capacity.counters, &w.c)
		s.workers = append(s.workers, &workerLoop{w: w, dp: dp})
	}
	udp := make([]udpListen, 0, len(opts.Listeners)+len(opts.FrontListeners))
	for _, a := range opts.Listeners {
		udp = append(udp, udpListen{addr: a, auth: listenerAuth(&opts, a)})
	}
	for _, f := range opts.FrontListeners {
		udp = append(udp, udpListen{addr: f.Addr, redirect: f.RedirectTo, auth: listenerAuth(&opts, f.Addr)})
	}
	for _, a := range opts.STUNListeners {
		udp = append(udp, udpListen{addr: a, stunOnly: true, auth: listenerAuth(&opts, a)})
	}
	if err := s.listen(udp, opts.SkipUnavailable); err != nil {
		s.release()
		return nil, err
	}
	if err := s.listenStream(opts); err != nil {
		s.release()
		return nil, err
	}
	if len(s.addrs) == 0 && len(s.StreamAddrs()) == 0 {
		s.release()
		return nil, ErrNoListeners
	}
	return s, nil
}

// probeRelay checks that relay sockets can be bound on addr, so that an
// IPv6 relay address the host lacks (a development edge without IPv6) is
// found at start and not by every Allocate that asks for IPv6.
func probeRelay(addr netip.Addr) error {
	c, err := datapath.ListenUDP(netip.AddrPortFrom(addr, 0), datapath.ListenConfig{})
	if err != nil {
		return err
	}
	return c.Close()
}

// listen binds one SO_REUSEPORT socket per worker for each address; the
// kernel spreads clients over them by their address, so a client's packets
// always reach the worker that holds its allocation.
func (s *Server) listen(ls []udpListen, skipUnavailable bool) error {
	for _, ul := range ls {
		addr := ul.addr
		if err := exclusive(addr); err != nil {
			if skipUnavailable && errors.Is(err, datapath.ErrAddrNotAvailable) {
				s.env.log.Warn("listener skipped: address not available on this host", "address", addr)
				continue
			}
			return fmt.Errorf("server: listen udp %v: %w", addr, err)
		}
		bound := addr
		ok := true
		for i, wl := range s.workers {
			c, err := datapath.ListenUDP(bound, s.buffers.client())
			if err != nil {
				if i == 0 && skipUnavailable && errors.Is(err, datapath.ErrAddrNotAvailable) {
					s.env.log.Warn("listener skipped: address not available on this host", "address", addr)
					ok = false
					break
				}
				return fmt.Errorf("server: listen udp %v: %w", addr, err)
			}
			bound = c.LocalAddr()
			c.Owner = &listener{sock: c, addr: bound, redirect: ul.redirect, stunOnly: ul.stunOnly, auth: ul.auth}
			if err := wl.dp.Add(c); err != nil {
				c.Close()
				return fmt.Errorf("server: listen udp %v: %w", addr, err)
			}
			wl.listeners = append(wl.listeners, c)
		}
		if ok {
			s.addrs = append(s.addrs, bound)
		}
	}
	return nil
}

// exclusive makes sure no other socket holds addr before the workers bind
// it with SO_REUSEPORT: the kernel lets any process of the same user join a
// reuse-port group, so a second edge started by mistake would otherwise
// silently take a share of the first one's clients. A bind without
// SO_REUSEPORT fails while anyone holds the port. Port 0 needs no check: the
// kernel picks a free port.
func exclusive(addr netip.AddrPort) error {
	if addr.Port() == 0 {
		return nil
	}
	probe, err := datapath.ListenUDP(addr, datapath.ListenConfig{})
	if err != nil {
		return err
	}
	return probe.Close()
}

// Addrs returns the bound client addresses (with the ports the kernel chose
// for port 0).
func (s *Server) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), s.addrs...) }

// Run serves until ctx is done, Close is called, a worker fails or a
// drain (see Drain) has finished, then ends every allocation and closes
// the sockets. A Server runs once.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return ErrStarted
	}
	s.started, s.cancel, s.done = true, cancel, make(chan struct{})
	s.mu.Unlock()
	defer close(s.done)

	errc := make(chan error, len(s.workers))
	for _, wl := range s.workers {
		go func() { errc <- wl.dp.Run(ctx) }()
	}
	s.runStream()
	var watcher sync.WaitGroup
	watcher.Go(func() { s.watchDrain(ctx, cancel) })
	// Connections close as soon as the server stops, while the workers
	// may still run what their readers queued.
	stopStream := context.AfterFunc(ctx, s.stopStream)
	defer stopStream()
	var first error
	for range s.workers {
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = fmt.Errorf("server: worker: %w", err)
			cancel()
		}
	}
	cancel()
	watcher.Wait()
	s.release()
	return first
}

// Close stops a running server and waits for Run to return, or releases the
// sockets of one that never ran. It is safe to call more than once and from
// any goroutine.
func (s *Server) Close() {
	s.mu.Lock()
	started, cancel, done := s.started, s.cancel, s.done
	s.started = true // a Run after Close refuses to start
	s.mu.Unlock()
	if started && cancel != nil {
		cancel()
		<-done
		return
	}
	s.release()
}

// release ends every allocation and closes all sockets, once. The workers'
// loops must have stopped: it touches their state from the caller's
// goroutine.
func (s *Server) release() {
	s.releaseOnce.Do(func() {
		s.stopStream()
		reason := stats.EndShutdown
		if s.env.drain.timedOut.Load() {
			reason = stats.EndDrainTimeout
		}
		for _, wl := range s.workers {
			var sessions []*session
			wl.w.table.Range(func(a *allocation.Allocation) bool {
				sessions = append(sessions, a.Relay.(*session))
				return true
			})
			for _, ss := range sessions {
				wl.w.closeSession(ss, reason)
			}
			_ = wl.dp.Close() // deregisters the listeners; they are closed after
			for _, c := range wl.listeners {
				_ = c.Close()
			}
		}
		s.env.tcp.stop()
		s.env.waits.stop()
	})
}

// Stats sums the counters of all workers.
func (s *Server) Stats() stats.Stats {
	st := stats.Stats{Tenants: make([]stats.TenantStats, len(s.env.tenants.names))}
	for i, name := range s.env.tenants.names {
		st.Tenants[i].Name = name
	}
	for _, wl := range s.workers {
		addCounters(&st, &wl.w.c)
		st.DataPath = st.DataPath.Add(wl.dp.Stats())
	}
	st.Ports = s.env.portStats()
	if s.stream != nil {
		st.Stream = s.stream.Stats()
	}
	st.TCP = s.env.tcp.ctr.Stats()
	return st
}

// Tick implements datapath.Handler: it ends expired allocations, hands
// back the ports of expired reservations and samples the relayed bandwidth
// for the capacity limit.
func (w *worker) Tick(now time.Time) {
	w.table.Expire(now, func(a *allocation.Allocation) {
		s := a.Relay.(*session)
		if w.ms.KeepAlive(s, now) {
			return
		}
		w.endSession(s, s.expiry())
	})
	w.expireReservations(now)
	w.endQuarantines(now)
	w.expireTCP(now)
	w.offloadTick(now)
	w.reportInterim(now)
	w.env.capacity.sample(int64(now.Sub(w.env.bw.epoch)))
}

// dpRelays opens relay sockets with cfg on a datapath worker.
type dpRelays struct {
	dp  *datapath.Worker
	cfg datapath.ListenConfig
}

// open binds a relay socket (see SocketBuffers.relay).
func (r *dpRelays) open(addr netip.AddrPort, s *session) (socket, error) {
	c, err := datapath.ListenUDP(addr, r.cfg)
	if err != nil {
		return nil, err
	}
	c.Owner = s
	if err := r.dp.Add(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (r *dpRelays) close(sock socket) {
	c, ok := sock.(*datapath.Conn)
	if !ok {
		return
	}
	_ = r.dp.Remove(c)
	_ = c.Close()
}

// indicationIDKey keys the Data indication transaction IDs of this process.
var indicationIDKey = randomUint64()

// randomUint64 returns a random number from crypto/rand.
func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}
