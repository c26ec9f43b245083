package offload

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// DefaultMaxEntries is the number of channels Open makes room for when
// Options.MaxEntries is zero.
const DefaultMaxEntries = 65536

// Options configure Open.
type Options struct {
	// Interfaces names the Ethernet interfaces on whose ingress the
	// program runs: those clients' and peers' packets arrive on.
	Interfaces []string
	// Hook is where the program is attached: HookTC (the zero value) or
	// HookXDP.
	Hook Hook
	// MaxEntries is the number of channels the maps hold (each direction);
	// zero means DefaultMaxEntries.
	MaxEntries uint32
	// SnapshotEvery is how often the counters of every channel are read
	// into a new Snapshot; zero means DefaultSnapshotEvery.
	SnapshotEvery time.Duration
	// Logger receives what Open and Close did; nil discards it.
	Logger *slog.Logger
}

// Loader holds the loaded program, its maps and its attachments. Its
// methods are safe for concurrent use.
type Loader struct {
	log *slog.Logger

	mu     sync.Mutex
	objs   offloadObjects
	links  []link.Link
	routes *router
	// hops keeps the XDP program's next hops (nil with HookTC).
	hops   *nextHops
	closed bool

	// snap is the latest Snapshot; stopSnap, closed by Close, stops its
	// reader, which closes snapDone (nil both until Open started it), and
	// the watch of hops, which closes hopsDone (nil without hops).
	snap               atomic.Pointer[snapshot]
	stopSnap, snapDone chan struct{}
	hopsDone           chan struct{}
}

// Open loads the program, attaches it at opts.Hook to every interface of
// opts, and returns the Loader that installs channels into it. Errors wrap
// ErrUnsupported (also for an interface whose driver has no native XDP,
// with HookXDP), ErrLoad (with the verifier's log) or ErrInterface.
func Open(opts Options) (*Loader, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		// Kernels from 5.11 account BPF memory to the cgroup instead.
		log.Debug("offload: memlock rlimit not raised", "err", err)
	}
	spec, err := loadOffload()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	n := opts.MaxEntries
	if n == 0 {
		n = DefaultMaxEntries
	}
	spec.Maps[offloadMapToPeer].MaxEntries = n
	spec.Maps[offloadMapToClient].MaxEntries = n
	// A destination per direction of each channel at most.
	spec.Maps[offloadMapNextHops].MaxEntries = 2 * n
	if err := spec.Variables[offloadVarTtl].Set(hopsSysctl("net/ipv4/ip_default_ttl")); err != nil {
		return nil, fmt.Errorf("%w: setting the TTL: %w", ErrLoad, err)
	}
	if err := spec.Variables[offloadVarHopLimit].Set(hopsSysctl("net/ipv6/conf/all/hop_limit")); err != nil {
		return nil, fmt.Errorf("%w: setting the hop limit: %w", ErrLoad, err)
	}
	l := &Loader{log: log}
	if err := loadHook(spec, opts.Hook, &l.objs); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: %+v", ErrLoad, ve)
		}
		if errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("%w: the process needs CAP_BPF and CAP_NET_ADMIN (or root), and a seccomp filter that allows bpf(2): %w",
				ErrUnsupported, err)
		}
		if errors.Is(err, ebpf.ErrNotSupported) {
			return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	if l.routes, err = newRouter(); err != nil {
		l.objs.Close()
		return nil, err
	}
	if opts.Hook == HookXDP {
		if l.hops, err = newNextHops(l.objs.NextHops); err != nil {
			l.routes.close()
			l.objs.Close()
			return nil, err
		}
	}
	for _, name := range opts.Interfaces {
		if err := l.attach(name, opts.Hook); err != nil {
			l.Close()
			return nil, err
		}
	}
	every := opts.SnapshotEvery
	if every <= 0 {
		every = DefaultSnapshotEvery
	}
	l.snap.Store(&snapshot{})
	l.stopSnap, l.snapDone = make(chan struct{}), make(chan struct{})
	go l.snapshots(every, l.stopSnap, l.snapDone)
	if l.hops != nil {
		l.hopsDone = make(chan struct{})
		go l.hops.watch(l.stopSnap, l.hopsDone)
	}
	return l, nil
}

// attach attaches the program of hook to the ingress of interface name.
func (l *Loader) attach(name string, hook Hook) error {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrInterface, name, err)
	}
	if len(iface.HardwareAddr) != 6 {
		return fmt.Errorf("%w %q: not an Ethernet interface", ErrInterface, name)
	}
	if hook == HookXDP {
		return l.attachXDP(iface)
	}
	lk, err := link.AttachTCX(link.TCXOptions{
		Interface: iface.Index,
		Program:   l.objs.ChannelData,
		Attach:    ebpf.AttachTCXIngress,
	})
	if err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("%w: tcx (Linux 6.6): %w", ErrUnsupported, err)
		}
		return fmt.Errorf("%w %q: attaching: %w", ErrInterface, name, err)
	}
	l.links = append(l.links, lk)
	l.log.Info("offload: attached", "interface", name, "ifindex", iface.Index, "hook", "tc")
	return nil
}

// attachXDP attaches the XDP program to iface in native (driver) mode
// only: generic XDP runs on skbs whose checksum may be left to the NIC
// (CHECKSUM_PARTIAL), which the program cannot see and would relay with a
// wrong checksum, and it would cost more than the TC program it replaces.
func (l *Loader) attachXDP(iface *net.Interface) error {
	lk, err := link.AttachXDP(link.XDPOptions{
		Program:   l.objs.ChannelDataXdp,
		Interface: iface.Index,
		Flags:     link.XDPDriverMode,
	})
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("%w: interface %q has no native (driver) XDP: %w", ErrUnsupported, iface.Name, err)
		}
		return fmt.Errorf("%w %q: attaching XDP: %w", ErrInterface, iface.Name, err)
	}
	l.links = append(l.links, lk)
	l.log.Info("offload: attached", "interface", iface.Name, "ifindex", iface.Index, "hook", "xdp")
	return nil
}

// Close detaches the program from every interface and frees its maps.
func (l *Loader) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.stopSnap != nil {
		close(l.stopSnap)
		<-l.snapDone
		if l.hopsDone != nil {
			<-l.hopsDone
		}
	}
	var errs []error
	for _, lk := range l.links {
		errs = append(errs, lk.Close())
	}
	if l.routes != nil {
		errs = append(errs, l.routes.close())
	}
	if l.hops != nil {
		errs = append(errs, l.hops.close())
	}
	errs = append(errs, l.objs.Close())
	l.log.Info("offload: detached", "interfaces", len(l.links))
	return errors.Join(errs...)
}

// Install adds c, or replaces the channel with c's client, listener and
// number, effective from the next packet. A refresh (the same peer) keeps
// the channel's counters, but for the packets the kernel counts between
// their read and the replacement, a few microseconds; a rebinding to
// another peer removes the old return entry and starts the counters at
// zero. Errors wrap ErrChannel, ErrRoute or ErrClosed.
func (l *Loader) Install(c Channel) error {
	if err := c.check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	toPeerIf, err := l.routes.ifindex(c.Peer.Addr())
	if err != nil {
		return err
	}
	toClientIf, err := l.routes.ifindex(c.Client.Addr())
	if err != nil {
		return err
	}
	if err := l.trackHops(toPeerIf, c.Peer.Addr(), toClientIf, c.Client.Addr()); err != nil {
		return err
	}
	expires := expiry(c.Lifetime)
	ck, pk := clientKey(c), peerKey(c)
	tp := offloadToPeerValue{
		RelayedAddr: c.Relayed.Addr().As16(), PeerAddr: c.Peer.Addr().As16(),
		RelayedPort: c.Relayed.Port(), PeerPort: c.Peer.Port(),
		Ifindex: toPeerIf, ExpiresNs: expires,
	}
	tc := offloadToClientValue{
		ClientAddr: ck.ClientAddr, ListenerAddr: ck.ListenerAddr,
		ClientPort: ck.ClientPort, ListenerPort: ck.ListenerPort,
		Channel: c.Number, Ifindex: toClientIf, ExpiresNs: expires,
	}
	// What pk led to before, restored should this install fail half-way:
	// it may be another channel's return entry.
	var prevReturn offloadToClientValue
	hadReturn := l.objs.ToClient.Lookup(&pk, &prevReturn) == nil
	var old offloadToPeerValue
	if l.objs.ToPeer.Lookup(&ck, &old) == nil {
		oldPeer := peerKey(Channel{Relayed: addrPort(old.RelayedAddr, old.RelayedPort), Peer: addrPort(old.PeerAddr, old.PeerPort)})
		if oldPeer != pk {
			l.deletePeer(oldPeer, ck)
		} else {
			l.keepCounters(pk, old, &tp, &tc)
		}
	}
	// The return direction first, so that a peer's answer to the first
	// relayed packet finds its way.
	if err := l.objs.ToClient.Update(&pk, &tc, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("offload: installing %v->%v: %w", c.Peer, c.Relayed, err)
	}
	if err := l.objs.ToPeer.Update(&ck, &tp, ebpf.UpdateAny); err != nil {
		if hadReturn {
			_ = l.objs.ToClient.Update(&pk, &prevReturn, ebpf.UpdateAny)
		} else {
			_ = l.objs.ToClient.Delete(&pk)
		}
		return fmt.Errorf("offload: installing %v->%v channel %#04x: %w", c.Client, c.Listener, c.Number, err)
	}
	return nil
}

// trackHops has the XDP program's next hops toward peer (out of peerIf)
// and client (out of clientIf) looked up; it does nothing with HookTC.
func (l *Loader) trackHops(peerIf uint32, peer netip.Addr, clientIf uint32, client netip.Addr) error {
	if l.hops == nil {
		return nil
	}
	if err := l.hops.track(peerIf, peer); err != nil {
		return err
	}
	return l.hops.track(clientIf, client)
}

// keepCounters carries the counters of a refreshed channel, old and the
// return entry pk, over to its new values tp and tc.
func (l *Loader) keepCounters(pk offloadPeerKey, old offloadToPeerValue, tp *offloadToPeerValue, tc *offloadToClientValue) {
	tp.Packets, tp.Bytes = old.Packets, old.Bytes
	var oc offloadToClientValue
	if l.objs.ToClient.Lookup(&pk, &oc) == nil {
		tc.Packets, tc.Bytes = oc.Packets, oc.Bytes
	}
}

// deletePeer removes the return entry pk if it still leads to the client
// channel ck.
func (l *Loader) deletePeer(pk offloadPeerKey, ck offloadClientKey) {
	var v offloadToClientValue
	if l.objs.ToClient.Lookup(&pk, &v) != nil {
		return
	}
	if v.ClientAddr == ck.ClientAddr && v.ClientPort == ck.ClientPort &&
		v.ListenerAddr == ck.ListenerAddr && v.ListenerPort == ck.ListenerPort && v.Channel == ck.Channel {
		_ = l.objs.ToClient.Delete(&pk)
	}
}

// Remove takes both directions of c away (its Lifetime is ignored). An
// error wraps ErrNotFound when neither was installed, or ErrClosed.
func (l *Loader) Remove(c Channel) error {
	if err := c.check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	ck, pk := clientKey(c), peerKey(c)
	errPeer := l.objs.ToPeer.Delete(&ck)
	errClient := l.objs.ToClient.Delete(&pk)
	if errors.Is(errPeer, ebpf.ErrKeyNotExist) && errors.Is(errClient, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("%w: %v channel %#04x", ErrNotFound, c.Client, c.Number)
	}
	for _, err := range []error{errPeer, errClient} {
		if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("offload: removing channel %#04x of %v: %w", c.Number, c.Client, err)
		}
	}
	return nil
}

// Counters returns what the kernel relayed for c. An error wraps
// ErrNotFound when c is not installed, or ErrClosed.
func (l *Loader) Counters(c Channel) (Counters, error) {
	if err := c.check(); err != nil {
		return Counters{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Counters{}, ErrClosed
	}
	ck, pk := clientKey(c), peerKey(c)
	var tp offloadToPeerValue
	var tc offloadToClientValue
	if err := l.objs.ToPeer.Lookup(&ck, &tp); err != nil {
		return Counters{}, fmt.Errorf("%w: %v channel %#04x: %w", ErrNotFound, c.Client, c.Number, err)
	}
	if err := l.objs.ToClient.Lookup(&pk, &tc); err != nil {
		return Counters{}, fmt.Errorf("%w: %v->%v: %w", ErrNotFound, c.Peer, c.Relayed, err)
	}
	return Counters{
		ToPeer:   Flow{Packets: tp.Packets, Bytes: tp.Bytes},
		ToClient: Flow{Packets: tc.Packets, Bytes: tc.Bytes},
	}, nil
}

// Stats returns what the program did since Open, summed over CPUs.
func (l *Loader) Stats() (Stats, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Stats{}, ErrClosed
	}
	sum := func(s offloadStat) (uint64, error) {
		var perCPU []uint64
		if err := l.objs.Stats.Lookup(&s, &perCPU); err != nil {
			return 0, fmt.Errorf("offload: reading stats: %w", err)
		}
		var n uint64
		for _, v := range perCPU {
			n += v
		}
		return n, nil
	}
	var st Stats
	for _, f := range []struct {
		s   offloadStat
		dst *uint64
	}{
		{offloadStatSTAT_TO_PEER, &st.ToPeer},
		{offloadStatSTAT_TO_CLIENT, &st.ToClient},
		{offloadStatSTAT_EXPIRED, &st.Expired},
		{offloadStatSTAT_PASS_PARTIAL, &st.PassPartial},
		{offloadStatSTAT_PASS_NO_CSUM, &st.PassNoChecksum},
		{offloadStatSTAT_PASS_MTU, &st.PassMTU},
		{offloadStatSTAT_ERROR, &st.Errors},
		{offloadStatSTAT_PASS_NO_NEIGH, &st.PassNoNeighbour},
	} {
		n, err := sum(f.s)
		if err != nil {
			return Stats{}, err
		}
		*f.dst = n
	}
	return st, nil
}

// clientKey is the to_peer key of c.
func clientKey(c Channel) offloadClientKey {
	return offloadClientKey{
		ClientAddr: c.Client.Addr().As16(), ListenerAddr: c.Listener.Addr().As16(),
		ClientPort: c.Client.Port(), ListenerPort: c.Listener.Port(),
		Channel: c.Number,
	}
}

// peerKey is the to_client key of c.
func peerKey(c Channel) offloadPeerKey {
	return offloadPeerKey{
		PeerAddr: c.Peer.Addr().As16(), RelayedAddr: c.Relayed.Addr().As16(),
		PeerPort: c.Peer.Port(), RelayedPort: c.Relayed.Port(),
	}
}

// addrPort makes a transport address out of a map's fields.
func addrPort(a [16]byte, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(a), port)
}

// expiry returns the kernel monotonic time (bpf_ktime_get_ns) at which a
// permission of lifetime from now ends; 0 for one that has ended.
func expiry(lifetime time.Duration) uint64 {
	var ts unix.Timespec
	// CLOCK_MONOTONIC cannot fail with a valid pointer.
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	end := ts.Nano() + int64(lifetime)
	if lifetime <= 0 || end <= 0 {
		return 0
	}
	return uint64(end)
}

// hopsSysctl reads the sysctl of the namespace's sockets' TTL
// (net/ipv4/ip_default_ttl) or hop limit (net/ipv6/conf/all/hop_limit),
// 64 when it cannot be read.
func hopsSysctl(name string) uint8 {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return 64
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 8)
	if err != nil || n == 0 {
		return 64
	}
	return uint8(n)
}
