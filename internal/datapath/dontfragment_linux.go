package datapath

import "golang.org/x/sys/unix"

// setDontFragment sets IP_MTU_DISCOVER to IP_PMTUDISC_DO (on) or back to
// Linux's default IP_PMTUDISC_WANT on an IPv4 socket, or IPV6_DONTFRAG on
// an IPv6 socket (v6). Linux has no control message for DF on IPv4.
func setDontFragment(fd uintptr, v6, on bool) error {
	if v6 {
		val := 0
		if on {
			val = 1
		}
		return unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, val)
	}
	val := unix.IP_PMTUDISC_WANT
	if on {
		val = unix.IP_PMTUDISC_DO
	}
	return unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, val)
}

// dontFragment reports whether IP_MTU_DISCOVER is IP_PMTUDISC_DO or
// IP_PMTUDISC_PROBE (IPv4), or IPV6_DONTFRAG is set (v6).
func dontFragment(fd uintptr, v6 bool) (bool, error) {
	if v6 {
		v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG)
		return v != 0, err
	}
	v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
	return v == unix.IP_PMTUDISC_DO || v == unix.IP_PMTUDISC_PROBE, err
}
