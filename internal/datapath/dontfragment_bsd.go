//go:build darwin || freebsd

package datapath

import "golang.org/x/sys/unix"

// setDontFragment sets IP_DONTFRAG (IPv4) or IPV6_DONTFRAG (v6).
func setDontFragment(fd uintptr, v6, on bool) error {
	level, opt := unix.IPPROTO_IP, unix.IP_DONTFRAG
	if v6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG
	}
	val := 0
	if on {
		val = 1
	}
	return unix.SetsockoptInt(int(fd), level, opt, val)
}

// dontFragment reports whether IP_DONTFRAG (IPv4) or IPV6_DONTFRAG (v6) is
// set.
func dontFragment(fd uintptr, v6 bool) (bool, error) {
	level, opt := unix.IPPROTO_IP, unix.IP_DONTFRAG
	if v6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG
	}
	v, err := unix.GetsockoptInt(int(fd), level, opt)
	return v != 0, err
}
