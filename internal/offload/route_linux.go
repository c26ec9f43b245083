package offload

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds of the router's lookups and of its cache.
const (
	// routeTimeout bounds the wait for the kernel's answer. The kernel
	// answers RTM_GETROUTE within the sendto (rtnetlink runs in the
	// sender's context), so the answer is queued before the receive
	// starts: the timeout only ends the wait for one that was lost (a full
	// receive buffer), and a worker installing a channel never waits long.
	routeTimeout = 50 * time.Millisecond
	// routeTTL is how long an answer is reused. The interface is written
	// into a channel's entries when it is installed and stays there until
	// the channel is installed again (a refresh, every few minutes), so a
	// route change already reaches installed channels late; reusing an
	// answer for 10 s more costs little beside that, and saves the lookups
	// of a CreatePermission or ChannelBind burst (a call's channels share
	// their client's address and often their peers').
	routeTTL = 10 * time.Second
	// routeCacheSize bounds the cache: destinations beyond it replace
	// cached ones.
	routeCacheSize = 4096
)

// router asks the kernel's routing table (RTM_GETROUTE on a netlink
// socket opened in the Loader's network namespace) which interface a
// destination is reached through, the interface the program redirects to,
// and caches the answers for routeTTL.
type router struct {
	fd    int
	seq   uint32
	cache routeCache
}

// routeCache holds the interfaces of recently looked-up destinations, at
// most max of them, each for ttl.
type routeCache struct {
	ttl time.Duration
	max int
	m   map[netip.Addr]route
}

// route is the kernel's answer for a destination: the interface it
// leaves by, the source address the kernel gives the packets a socket
// sends there without choosing one (RTA_PREFSRC; invalid when the answer
// has none), and when it was looked up.
type route struct {
	ifindex uint32
	src     netip.Addr
	at      time.Time
}

// get returns the route cached for dst if it was looked up less than ttl
// before now.
func (c *routeCache) get(dst netip.Addr, now time.Time) (route, bool) {
	r, ok := c.m[dst]
	if !ok || now.Sub(r.at) >= c.ttl {
		return route{}, false
	}
	return r, true
}

// put caches r for dst; when the cache is full, another destination (any:
// Go's map order) makes room.
func (c *routeCache) put(dst netip.Addr, r route) {
	if c.m == nil {
		c.m = make(map[netip.Addr]route)
	}
	if _, ok := c.m[dst]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[dst] = r
}

// newRouter opens the netlink socket in the calling thread's namespace.
func newRouter() (*router, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("offload: netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("offload: netlink bind: %w", err)
	}
	tv := unix.NsecToTimeval(routeTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("offload: netlink timeout: %w", err)
	}
	return &router{fd: fd, cache: routeCache{ttl: routeTTL, max: routeCacheSize}}, nil
}

func (r *router) close() error { return unix.Close(r.fd) }

// ifindex returns the index of the interface the route to dst leaves by,
// as cached if it was looked up less than routeTTL ago. The caller
// serialises calls.
func (r *router) ifindex(dst netip.Addr) (uint32, error) {
	rt, err := r.route(dst)
	return rt.ifindex, err
}

// source returns the address the kernel sends from to dst when a socket
// bound to a wildcard address does not choose one, as cached if it was
// looked up less than routeTTL ago. The caller serialises calls.
func (r *router) source(dst netip.Addr) (netip.Addr, error) {
	rt, err := r.route(dst)
	if err == nil && !rt.src.IsValid() {
		err = fmt.Errorf("%w to %v: no preferred source address", ErrRoute, dst.Unmap())
	}
	return rt.src, err
}

// route returns the route to dst, as cached if it was looked up less than
// routeTTL ago.
func (r *router) route(dst netip.Addr) (route, error) {
	dst = dst.Unmap()
	now := time.Now()
	if rt, ok := r.cache.get(dst, now); ok {
		return rt, nil
	}
	rt, err := r.lookup(dst)
	if err != nil {
		return route{}, err
	}
	rt.at = now
	r.cache.put(dst, rt)
	return rt, nil
}

// lookup asks the kernel for the route to dst: its interface and
// preferred source address.
func (r *router) lookup(dst netip.Addr) (route, error) {
	family, bits := unix.AF_INET, 32
	if dst.Is6() {
		family, bits = unix.AF_INET6, 128
	}
	r.seq++
	addr := dst.AsSlice()
	attrLen := unix.SizeofRtAttr + len(addr)
	msg := make([]byte, unix.SizeofNlMsghdr+unix.SizeofRtMsg+attrLen)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.RTM_GETROUTE)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(msg[8:], r.seq)
	rt := msg[unix.SizeofNlMsghdr:]
	rt[0] = byte(family) // rtm_family
	rt[1] = byte(bits)   // rtm_dst_len
	attr := rt[unix.SizeofRtMsg:]
	ne.PutUint16(attr[0:], uint16(attrLen))
	ne.PutUint16(attr[2:], unix.RTA_DST)
	copy(attr[unix.SizeofRtAttr:], addr)
	if err := unix.Sendto(r.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return route{}, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(r.fd, buf, 0)
		if err != nil {
			return route{}, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return route{}, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
		}
		for _, m := range msgs {
			if m.Header.Seq != r.seq {
				continue // an answer to an earlier request that timed out
			}
			switch m.Header.Type {
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return route{}, fmt.Errorf("%w to %v: %w", ErrRoute, dst, syscall.Errno(-errno))
					}
				}
				return route{}, fmt.Errorf("%w to %v", ErrRoute, dst)
			case unix.RTM_NEWROUTE:
				attrs, err := syscall.ParseNetlinkRouteAttr(&m)
				if err != nil {
					return route{}, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
				}
				var rt route
				for _, a := range attrs {
					switch {
					case a.Attr.Type == unix.RTA_OIF && len(a.Value) >= 4:
						rt.ifindex = ne.Uint32(a.Value)
					case a.Attr.Type == unix.RTA_PREFSRC:
						rt.src, _ = netip.AddrFromSlice(a.Value)
					}
				}
				if rt.ifindex == 0 {
					return route{}, fmt.Errorf("%w to %v: no output interface", ErrRoute, dst)
				}
				return rt, nil
			}
		}
	}
}
