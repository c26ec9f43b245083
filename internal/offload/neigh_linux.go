package offload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// usableNUD are the neighbour states whose link-layer address the kernel
// itself would send to (a stale entry is used while it is probed), so
// the XDP program may too.
const usableNUD = unix.NUD_REACHABLE | unix.NUD_STALE | unix.NUD_DELAY | unix.NUD_PROBE | unix.NUD_PERMANENT

// nextHops keeps the XDP program's next_hops map: for each destination of
// an installed channel (a peer on the to_peer entry's interface, a client
// on the to_client entry's), the egress interface's MAC address and the
// next hop's (the route's gateway, or the destination itself on a link),
// from the kernel's neighbour table. Install tracks a destination (one
// RTM_GETROUTE, one RTM_GETNEIGH, one RTM_GETLINK); the snapshot reader
// refreshes every tracked destination from one neighbour dump each
// period and forgets those no entry uses any more. A destination whose
// neighbour is not known has no map entry: its packets go to user space,
// whose send resolves the neighbour; the kernel's notification of the
// new neighbour (RTNLGRP_NEIGH, read by watch) then brings it into the
// map at once, and the periodic refresh makes up for a lost
// notification. It uses netlink sockets of its own, opened in the
// Loader's namespace; its methods are safe for concurrent use.
type nextHops struct {
	m *ebpf.Map
	// events receives the kernel's neighbour notifications (read by
	// watch only).
	events int

	mu    sync.Mutex
	fd    int
	seq   uint32
	epoch uint64
	dests map[offloadHopKey]*hopDest
	// byVia indexes dests by next hop, for the notifications.
	byVia map[neighKey]map[offloadHopKey]bool
}

// hopDest is a tracked destination: its next hop's address, the epoch of
// its last tracking, and what the map holds for it (set false: nothing).
type hopDest struct {
	via   netip.Addr
	epoch uint64
	val   offloadHopValue
	set   bool
}

// watchTimeout bounds each wait of watch for a notification, and so how
// long it takes to notice that it must stop.
const watchTimeout = 100 * time.Millisecond

// newNextHops opens the netlink sockets in the calling thread's
// namespace: one for requests, one subscribed to neighbour notifications.
func newNextHops(m *ebpf.Map) (*nextHops, error) {
	fd, err := netlinkSocket(0, routeTimeout)
	if err != nil {
		return nil, err
	}
	events, err := netlinkSocket(unix.RTMGRP_NEIGH, watchTimeout)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &nextHops{m: m, fd: fd, events: events, dests: make(map[offloadHopKey]*hopDest), byVia: make(map[neighKey]map[offloadHopKey]bool)}, nil
}

// netlinkSocket opens a NETLINK_ROUTE socket joined to groups, whose
// receives time out after timeout.
func netlinkSocket(groups uint32, timeout time.Duration) (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return -1, fmt.Errorf("offload: netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("offload: netlink bind: %w", err)
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("offload: netlink timeout: %w", err)
	}
	return fd, nil
}

// close closes the sockets; watch must have returned.
func (h *nextHops) close() error {
	return errors.Join(unix.Close(h.fd), unix.Close(h.events))
}

// watch applies the kernel's neighbour notifications to the tracked
// destinations until stop is closed; it closes done when it returns. A
// lost notification (a full socket buffer: ENOBUFS) is made up for by
// the next refresh.
func (h *nextHops) watch(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 32768)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, _, err := unix.Recvfrom(h.events, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS):
			continue // the timeout, to look at stop; or lost notifications
		case err != nil:
			return // the socket is unusable: the refresh alone keeps the next hops
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			k, mac, ok := parseNeigh(m)
			if !ok {
				continue
			}
			if m.Header.Type == unix.RTM_DELNEIGH {
				mac = nil
			}
			h.neighbourChanged(k, mac)
		}
	}
}

// neighbourChanged sets the next hop of the destinations behind neighbour
// k to mac, or removes them from the map when mac is nil.
func (h *nextHops) neighbourChanged(k neighKey, mac []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := h.byVia[k]
	if len(keys) == 0 {
		return
	}
	var src []byte
	if mac != nil {
		var err error
		if src, err = h.linkAddr(k.ifindex); err != nil {
			return // the refresh will try again
		}
	}
	for key := range keys {
		_ = h.set(key, h.dests[key], src, mac) // the refresh will try again
	}
}

// index adds key, whose next hop is via, to byVia, or removes it (add
// false).
func (h *nextHops) index(via neighKey, key offloadHopKey, add bool) {
	keys := h.byVia[via]
	switch {
	case add && keys == nil:
		h.byVia[via] = map[offloadHopKey]bool{key: true}
	case add:
		keys[key] = true
	default:
		delete(keys, key)
		if len(keys) == 0 {
			delete(h.byVia, via)
		}
	}
}

// hopKey is the next_hops key of dst out of ifindex.
func hopKey(ifindex uint32, dst netip.Addr) offloadHopKey {
	return offloadHopKey{Ifindex: ifindex, Addr: dst.As16()}
}

// track looks up the next hop of dst out of ifindex and writes its MAC
// addresses into the map if the kernel knows them (and removes what the
// map held otherwise). Errors wrap ErrRoute.
func (h *nextHops) track(ifindex uint32, dst netip.Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := hopKey(ifindex, dst)
	via, err := h.gateway(dst.Unmap())
	if err != nil {
		return err
	}
	d := h.dests[key]
	if d == nil {
		d = &hopDest{}
		h.dests[key] = d
	} else {
		h.index(neighKey{ifindex, d.via}, key, false)
	}
	d.via, d.epoch = via, h.epoch
	h.index(neighKey{ifindex, via}, key, true)
	mac, err := h.neighbour(ifindex, via)
	if err != nil {
		return err
	}
	var src []byte
	if mac != nil {
		if src, err = h.linkAddr(ifindex); err != nil {
			return err
		}
	}
	return h.set(key, d, src, mac)
}

// set writes the MAC addresses src and dst of d (key) into the map, or
// removes d's map entry when dst is nil.
func (h *nextHops) set(key offloadHopKey, d *hopDest, src, dst []byte) error {
	if dst == nil || len(src) != 6 || len(dst) != 6 {
		if d.set {
			d.set = false
			if err := h.m.Delete(&key); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return fmt.Errorf("offload: next hop of %v: %w", netip.AddrFrom16(key.Addr).Unmap(), err)
			}
		}
		return nil
	}
	var v offloadHopValue
	copy(v.Src[:], src)
	copy(v.Dst[:], dst)
	if d.set && d.val == v {
		return nil
	}
	if err := h.m.Update(&key, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("offload: next hop of %v: %w", netip.AddrFrom16(key.Addr).Unmap(), err)
	}
	d.val, d.set = v, true
	return nil
}

// begin starts a refresh: destinations tracked from now on are kept by
// the refresh that ends with the epoch it returns.
func (h *nextHops) begin() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.epoch++
	return h.epoch
}

// refresh updates every tracked destination from the neighbour table,
// and forgets (removing its map entry) each one live does not hold that
// was last tracked before epoch (begin's): live holds the destinations of
// the entries read since begin, so one tracked meanwhile is kept.
func (h *nextHops) refresh(live map[offloadHopKey]bool, epoch uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	neigh, err := h.neighbours()
	if err != nil {
		return err
	}
	links := make(map[uint32][]byte)
	var errs []error
	for key, d := range h.dests {
		if !live[key] && d.epoch < epoch {
			errs = append(errs, h.set(key, d, nil, nil))
			delete(h.dests, key)
			h.index(neighKey{key.Ifindex, d.via}, key, false)
			continue
		}
		mac := neigh[neighKey{key.Ifindex, d.via}]
		src, ok := links[key.Ifindex]
		if mac != nil && !ok {
			src, err = h.linkAddr(key.Ifindex)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			links[key.Ifindex] = src
		}
		errs = append(errs, h.set(key, d, src, mac))
	}
	return errors.Join(errs...)
}

// neighKey names a neighbour: an interface and an address.
type neighKey struct {
	ifindex uint32
	addr    netip.Addr
}

// neighbours dumps the neighbour table (both families) and returns the
// link-layer addresses of the neighbours in a usable state.
func (h *nextHops) neighbours() (map[neighKey][]byte, error) {
	req := make([]byte, unix.SizeofNdMsg) // family AF_UNSPEC: both
	msgs, err := h.request(unix.RTM_GETNEIGH, unix.NLM_F_DUMP, req)
	if err != nil {
		return nil, fmt.Errorf("%w: neighbour table: %w", ErrRoute, err)
	}
	out := make(map[neighKey][]byte)
	for _, m := range msgs {
		if k, mac, ok := parseNeigh(m); ok && mac != nil {
			out[k] = mac
		}
	}
	return out, nil
}

// neighbour returns the link-layer address of neighbour addr on ifindex,
// nil when the kernel has none in a usable state.
func (h *nextHops) neighbour(ifindex uint32, addr netip.Addr) ([]byte, error) {
	family := byte(unix.AF_INET)
	if addr.Is6() {
		family = unix.AF_INET6
	}
	req := make([]byte, unix.SizeofNdMsg)
	req[0] = family
	binary.NativeEndian.PutUint32(req[4:], ifindex)
	req = appendAttr(req, unix.NDA_DST, addr.AsSlice())
	msgs, err := h.request(unix.RTM_GETNEIGH, 0, req)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: neighbour %v: %w", ErrRoute, addr, err)
	}
	for _, m := range msgs {
		if _, mac, ok := parseNeigh(m); ok {
			return mac, nil
		}
	}
	return nil, nil
}

// parseNeigh reads an RTM_NEWNEIGH or RTM_DELNEIGH message: its interface
// and address, and its link-layer address if its state is usable (nil
// otherwise).
func parseNeigh(m syscall.NetlinkMessage) (neighKey, []byte, bool) {
	if (m.Header.Type != unix.RTM_NEWNEIGH && m.Header.Type != unix.RTM_DELNEIGH) || len(m.Data) < unix.SizeofNdMsg {
		return neighKey{}, nil, false
	}
	ne := binary.NativeEndian
	k := neighKey{ifindex: ne.Uint32(m.Data[4:])}
	state := ne.Uint16(m.Data[8:])
	var mac []byte
	for typ, val := range attrs(m.Data[unix.SizeofNdMsg:]) {
		switch typ {
		case unix.NDA_DST:
			k.addr, _ = netip.AddrFromSlice(val)
		case unix.NDA_LLADDR:
			mac = val
		}
	}
	if !k.addr.IsValid() {
		return neighKey{}, nil, false
	}
	if state&usableNUD == 0 || len(mac) != 6 {
		mac = nil
	}
	return k, mac, true
}

// gateway returns the next hop of the route to dst: its gateway, or dst
// itself when the route is on a link.
func (h *nextHops) gateway(dst netip.Addr) (netip.Addr, error) {
	family, bits := byte(unix.AF_INET), byte(32)
	if dst.Is6() {
		family, bits = unix.AF_INET6, 128
	}
	req := make([]byte, unix.SizeofRtMsg)
	req[0], req[1] = family, bits
	req = appendAttr(req, unix.RTA_DST, dst.AsSlice())
	msgs, err := h.request(unix.RTM_GETROUTE, 0, req)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w to %v: %w", ErrRoute, dst, err)
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
			continue
		}
		for typ, val := range attrs(m.Data[unix.SizeofRtMsg:]) {
			if typ == unix.RTA_GATEWAY {
				if gw, ok := netip.AddrFromSlice(val); ok {
					return gw, nil
				}
			}
		}
		return dst, nil
	}
	return netip.Addr{}, fmt.Errorf("%w to %v: no answer", ErrRoute, dst)
}

// linkAddr returns the MAC address of interface ifindex.
func (h *nextHops) linkAddr(ifindex uint32) ([]byte, error) {
	req := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(req[4:], ifindex)
	msgs, err := h.request(unix.RTM_GETLINK, 0, req)
	if err != nil {
		return nil, fmt.Errorf("%w: interface %d: %w", ErrRoute, ifindex, err)
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		for typ, val := range attrs(m.Data[unix.SizeofIfInfomsg:]) {
			if typ == unix.IFLA_ADDRESS {
				return val, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: interface %d has no link-layer address", ErrRoute, ifindex)
}

// request sends a netlink request of type typ with payload and returns
// the answer's messages: the one answer of a request, every message of a
// dump (flags NLM_F_DUMP) up to NLMSG_DONE. A kernel error is returned as
// its errno.
func (h *nextHops) request(typ uint16, flags uint16, payload []byte) ([]syscall.NetlinkMessage, error) {
	h.seq++
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(payload))
	msg = append(msg, payload...)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], typ)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST|flags)
	ne.PutUint32(msg[8:], h.seq)
	if err := unix.Sendto(h.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	var out []syscall.NetlinkMessage
	buf := make([]byte, 32768)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(h.fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("netlink: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("netlink: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != h.seq {
				continue // an answer to an earlier request that timed out
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return nil, syscall.Errno(-errno)
					}
				}
				return out, nil
			}
			out = append(out, m)
			if flags&unix.NLM_F_DUMP == 0 {
				return out, nil
			}
		}
	}
	return nil, errors.New("netlink: dump not done within a second")
}

// appendAttr appends a route attribute of type typ holding val to b.
func appendAttr(b []byte, typ uint16, val []byte) []byte {
	n := unix.SizeofRtAttr + len(val)
	a := make([]byte, (n+unix.RTA_ALIGNTO-1) & ^(unix.RTA_ALIGNTO-1))
	binary.NativeEndian.PutUint16(a[0:], uint16(n))
	binary.NativeEndian.PutUint16(a[2:], typ)
	copy(a[unix.SizeofRtAttr:], val)
	return append(b, a...)
}

// attrs iterates over the route attributes in b.
func attrs(b []byte) func(yield func(uint16, []byte) bool) {
	return func(yield func(uint16, []byte) bool) {
		ne := binary.NativeEndian
		for len(b) >= unix.SizeofRtAttr {
			n := int(ne.Uint16(b[0:]))
			if n < unix.SizeofRtAttr || n > len(b) {
				return
			}
			if !yield(ne.Uint16(b[2:]), b[unix.SizeofRtAttr:n]) {
				return
			}
			n = (n + unix.RTA_ALIGNTO - 1) & ^(unix.RTA_ALIGNTO - 1)
			if n >= len(b) {
				return
			}
			b = b[n:]
		}
	}
}
