package datapath

import "golang.org/x/sys/windows"

// Socket options of ws2ipdef.h that golang.org/x/sys/windows does not name.
const (
	ipDontFragment = 14 // IP_DONTFRAGMENT, level IPPROTO_IP
	ipv6DontFrag   = 14 // IPV6_DONTFRAG, level IPPROTO_IPV6
)

// setDontFragment sets IP_DONTFRAGMENT (IPv4) or IPV6_DONTFRAG (v6).
func setDontFragment(fd uintptr, v6, on bool) error {
	level, opt := windows.IPPROTO_IP, ipDontFragment
	if v6 {
		level, opt = windows.IPPROTO_IPV6, ipv6DontFrag
	}
	val := 0
	if on {
		val = 1
	}
	return windows.SetsockoptInt(windows.Handle(fd), level, opt, val)
}

// dontFragment reports whether IP_DONTFRAGMENT (IPv4) or IPV6_DONTFRAG
// (v6) is set.
func dontFragment(fd uintptr, v6 bool) (bool, error) {
	level, opt := windows.IPPROTO_IP, ipDontFragment
	if v6 {
		level, opt = windows.IPPROTO_IPV6, ipv6DontFrag
	}
	v, err := windows.GetsockoptInt(windows.Handle(fd), level, opt)
	return v != 0, err
}
