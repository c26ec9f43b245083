package proxyproto

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
)

// v2HeaderLen is the fixed part of a version 2 header: the signature, the
// version and command, the family and transport, and the length of what
// follows.
const v2HeaderLen = 16

// MaxV2Body bounds what follows the fixed part of a version 2 header (the
// addresses and the TLVs) that Read accepts: a proxy's TLVs (ALPN, SNI,
// TLS details, a unique ID, a cloud's endpoint ID) take a few hundred
// bytes; the protocol's 16-bit length would allow 64 KiB.
const MaxV2Body = 2048

// The fields of the 13th and 14th bytes (proxy-protocol.txt §2.2).
const (
	v2Version    = 0x2
	cmdLocal     = 0x0
	cmdProxy     = 0x1
	famUnspec    = 0x0
	famInet      = 0x1
	famInet6     = 0x2
	famUnix      = 0x3
	transUnspec  = 0x0
	transStream  = 0x1
	transDgram   = 0x2
	inetAddrLen  = 12 // two IPv4 addresses, two ports
	inet6AddrLen = 36 // two IPv6 addresses, two ports
	tlvHeaderLen = 3  // type, 16-bit length
)

// readV2 reads the rest of a version 2 header whose first byte, first, r
// has given already.
func readV2(r io.Reader, first byte) (Header, error) {
	var fixed [v2HeaderLen]byte
	fixed[0] = first
	if err := readFull(r, fixed[1:]); err != nil {
		return Header{}, err
	}
	if string(fixed[:len(v2Signature)]) != v2Signature {
		return Header{}, fmt.Errorf("%w: bytes % x", ErrNoHeader, fixed[:len(v2Signature)])
	}
	verCmd, fam := fixed[12], fixed[13]
	if verCmd>>4 != v2Version {
		return Header{}, fmt.Errorf("%w: version %d", ErrMalformed, verCmd>>4)
	}
	cmd := verCmd & 0xF
	if cmd != cmdLocal && cmd != cmdProxy {
		return Header{}, fmt.Errorf("%w: command %#x", ErrMalformed, cmd)
	}
	n := int(binary.BigEndian.Uint16(fixed[14:]))
	if n > MaxV2Body {
		return Header{}, fmt.Errorf("%w: %d bytes of addresses and TLVs (at most %d)", ErrMalformed, n, MaxV2Body)
	}
	body := make([]byte, n)
	if err := readFull(r, body); err != nil {
		return Header{}, err
	}
	return parseV2(cmd, fam, body)
}

// parseV2 parses the command, the family and transport byte and the body
// of a version 2 header.
func parseV2(cmd, fam byte, body []byte) (Header, error) {
	h := Header{Version: 2}
	if cmd == cmdLocal {
		// The proxy's own connection: the body is to be skipped.
		return h, nil
	}
	family, trans := fam>>4, fam&0xF
	if family > famUnix || trans > transDgram {
		return Header{}, fmt.Errorf("%w: family and transport %#02x", ErrMalformed, fam)
	}
	var addrLen int
	switch {
	case family == famUnspec || family == famUnix:
		// No IP address to take: the connection's own stands. The
		// body is skipped whole (a UNIX header's paths are not TLVs).
		return h, nil
	case trans != transStream:
		return Header{}, fmt.Errorf("%w: family and transport %#02x on a stream", ErrUnsupported, fam)
	case family == famInet:
		addrLen = inetAddrLen
	default:
		addrLen = inet6AddrLen
	}
	if len(body) < addrLen {
		return Header{}, fmt.Errorf("%w: %d bytes for addresses of %d", ErrMalformed, len(body), addrLen)
	}
	ip := (addrLen - 4) / 2
	src, _ := netip.AddrFromSlice(body[:ip])
	dst, _ := netip.AddrFromSlice(body[ip : 2*ip])
	h.Proxied = true
	h.Source = netip.AddrPortFrom(src.Unmap(), binary.BigEndian.Uint16(body[2*ip:]))
	h.Dest = netip.AddrPortFrom(dst.Unmap(), binary.BigEndian.Uint16(body[2*ip+2:]))
	if err := checkTLVs(body[addrLen:]); err != nil {
		return Header{}, err
	}
	return h, nil
}

// checkTLVs checks that b is a sequence of whole TLVs; their values are
// not used.
func checkTLVs(b []byte) error {
	for len(b) > 0 {
		if len(b) < tlvHeaderLen {
			return fmt.Errorf("%w: %d bytes left after the TLVs", ErrMalformed, len(b))
		}
		n := tlvHeaderLen + int(binary.BigEndian.Uint16(b[1:]))
		if n > len(b) {
			return fmt.Errorf("%w: TLV %#02x of %d bytes overruns the header", ErrMalformed, b[0], n)
		}
		b = b[n:]
	}
	return nil
}
