package offload

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// router asks the kernel's routing table (RTM_GETROUTE on a netlink
// socket opened in the Loader's network namespace) which interface a
// destination is reached through, the interface the program redirects to.
type router struct {
	fd  int
	seq uint32
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
	tv := unix.Timeval{Sec: 2}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("offload: netlink timeout: %w", err)
	}
	return &router{fd: fd}, nil
}

func (r *router) close() error { return unix.Close(r.fd) }

// ifindex returns the index of the interface the route to dst leaves by.
// The caller serialises calls.
func (r *router) ifindex(dst netip.Addr) (uint32, error) {
	dst = dst.Unmap()
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
		return 0, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(r.fd, buf, 0)
		if err != nil {
			return 0, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return 0, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
		}
		for _, m := range msgs {
			if m.Header.Seq != r.seq {
				continue // an answer to an earlier request that timed out
			}
			switch m.Header.Type {
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return 0, fmt.Errorf("%w to %v: %w", ErrRoute, dst, syscall.Errno(-errno))
					}
				}
				return 0, fmt.Errorf("%w to %v", ErrRoute, dst)
			case unix.RTM_NEWROUTE:
				attrs, err := syscall.ParseNetlinkRouteAttr(&m)
				if err != nil {
					return 0, fmt.Errorf("%w to %v: netlink: %w", ErrRoute, dst, err)
				}
				for _, a := range attrs {
					if a.Attr.Type == unix.RTA_OIF && len(a.Value) >= 4 {
						return ne.Uint32(a.Value), nil
					}
				}
				return 0, fmt.Errorf("%w to %v: no output interface", ErrRoute, dst)
			}
		}
	}
}
