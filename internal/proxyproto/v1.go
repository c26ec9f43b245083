package proxyproto

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// v1MaxLen is the longest version 1 header, CRLF included: "PROXY TCP6"
// with two full IPv6 addresses and two five-digit ports.
const v1MaxLen = 107

// v1MinLen is the shortest: "PROXY UNKNOWN\r\n".
const v1MinLen = 15

// readV1 reads the rest of a version 1 header whose first byte, first, r
// has given already: a line of at most 107 bytes ending in CRLF.
func readV1(r io.Reader, first byte) (Header, error) {
	var buf [v1MaxLen]byte
	buf[0] = first
	n := v1MinLen
	if err := readFull(r, buf[1:n]); err != nil {
		return Header{}, err
	}
	if string(buf[:len(v1Prefix)]) != v1Prefix {
		return Header{}, fmt.Errorf("%w: %q", ErrNoHeader, buf[:len(v1Prefix)])
	}
	for !bytes.HasSuffix(buf[:n], []byte("\r\n")) {
		// What is left is at least the CRLF, or its LF after a CR: read
		// that much, never a byte past the header.
		more := 2
		if buf[n-1] == '\r' {
			more = 1
		}
		if n+more > v1MaxLen {
			return Header{}, fmt.Errorf("%w: version 1 line longer than %d bytes", ErrMalformed, v1MaxLen)
		}
		if err := readFull(r, buf[n:n+more]); err != nil {
			return Header{}, err
		}
		n += more
	}
	return parseV1(string(buf[:n-2]))
}

// parseV1 parses a version 1 line without its CRLF.
func parseV1(line string) (Header, error) {
	f := strings.Split(line, " ")
	if len(f) < 2 || f[0] != "PROXY" {
		return Header{}, fmt.Errorf("%w: %q", ErrMalformed, line)
	}
	switch f[1] {
	case "UNKNOWN":
		// The rest of the line, if any, is to be ignored.
		return Header{Version: 1}, nil
	case "TCP4", "TCP6":
	default:
		return Header{}, fmt.Errorf("%w: protocol %q (want TCP4, TCP6 or UNKNOWN)", ErrMalformed, f[1])
	}
	if len(f) != 6 {
		return Header{}, fmt.Errorf("%w: %q: want PROXY, the protocol, two addresses and two ports separated by single spaces", ErrMalformed, line)
	}
	v4 := f[1] == "TCP4"
	src, err := v1Addr(f[2], f[4], v4)
	if err != nil {
		return Header{}, err
	}
	dst, err := v1Addr(f[3], f[5], v4)
	if err != nil {
		return Header{}, err
	}
	return Header{Version: 1, Proxied: true, Source: src, Dest: dst}, nil
}

// v1Addr parses a version 1 address and port, an IPv4 address when v4 and
// an IPv6 one otherwise.
func v1Addr(addr, port string, v4 bool) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" || a.Is4() != v4 {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q", ErrMalformed, addr)
	}
	// ParseUint takes no sign; the port is 1 to 5 decimal digits.
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || len(port) > 5 {
		return netip.AddrPort{}, fmt.Errorf("%w: port %q", ErrMalformed, port)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}
