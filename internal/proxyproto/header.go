package proxyproto

import (
	"fmt"
	"io"
	"net/netip"
)

// Header is what a PROXY protocol header says of a connection.
type Header struct {
	// Version is 1 or 2.
	Version int
	// Proxied is true when the header carries the client's addresses
	// (v1 TCP4 or TCP6, v2 PROXY over AF_INET or AF_INET6); false for a
	// v1 UNKNOWN or a v2 LOCAL header, or a v2 address family that is no
	// IP (AF_UNSPEC, AF_UNIX): the proxy's own health checks and the like,
	// where the connection's own addresses stand.
	Proxied bool
	// Source is the client's address and Dest the address it connected
	// to, when Proxied; IPv4 addresses are plain (never IPv4-mapped).
	Source, Dest netip.AddrPort
}

// The first bytes of each version's header.
const (
	v1Prefix    = "PROXY "
	v2Signature = "\r\n\r\n\x00\r\nQUIT\n"
)

// Starts reports whether a connection whose first byte is b may begin with
// a PROXY protocol header: 'P' (version 1) or CR (version 2). Neither opens
// a TLS record, STUN or ChannelData, so one byte tells a header from the
// protocols that follow it.
func Starts(b byte) bool { return b == v1Prefix[0] || b == v2Signature[0] }

// Read reads a PROXY protocol header of either version from r, never
// reading a byte beyond its end: the bytes that follow it are left in r.
// The caller bounds the wait (a deadline on the connection). The error
// wraps ErrNoHeader, ErrMalformed or ErrUnsupported, or is r's own
// (io.ErrUnexpectedEOF when r ends within the header).
func Read(r io.Reader) (Header, error) {
	var first [1]byte
	if _, err := io.ReadFull(r, first[:]); err != nil {
		return Header{}, fmt.Errorf("proxyproto: %w", err)
	}
	switch first[0] {
	case v1Prefix[0]:
		return readV1(r, first[0])
	case v2Signature[0]:
		return readV2(r, first[0])
	}
	return Header{}, fmt.Errorf("%w: first byte %#02x", ErrNoHeader, first[0])
}

// readFull reads len(b) bytes of a header from r.
func readFull(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("proxyproto: %w", err)
	}
	return nil
}
