package proxyproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
)

// unhex decodes hex with spaces, for byte-exact vectors.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	sig    = "0d0a0d0a 000d0a51 5549540a"
	ffff6  = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
	ffffV1 = "PROXY TCP6 " + ffff6 + " " + ffff6 + " 65535 65535\r\n"
)

func TestReadValid(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		in   []byte
		want Header
	}{
		// proxy-protocol.txt §2.1: the longest and the shortest lines.
		{"v1 tcp4 max", []byte("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"),
			Header{Version: 1, Proxied: true, Source: ap("255.255.255.255:65535"), Dest: ap("255.255.255.255:65535")}},
		{"v1 tcp6 107 bytes", []byte(ffffV1),
			Header{Version: 1, Proxied: true, Source: ap("[" + ffff6 + "]:65535"), Dest: ap("[" + ffff6 + "]:65535")}},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), Header{Version: 1}},
		{"v1 unknown with addresses", []byte("PROXY UNKNOWN " + ffff6 + " " + ffff6 + " 65535 65535\r\n"), Header{Version: 1}},
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n"),
			Header{Version: 1, Proxied: true, Source: ap("192.0.2.10:56324"), Dest: ap("198.51.100.1:443")}},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n"),
			Header{Version: 1, Proxied: true, Source: ap("[2001:db8::1]:4000"), Dest: ap("[2001:db8::2]:443")}},
		// HAProxy's send-proxy-v2 of a TCP4 connection from
		// 172.19.0.1:42578 to 172.19.0.3:80 (captured on the wire).
		{"v2 tcp4", unhex(t, sig+"21 11 000c ac130001 ac130003 a652 0050"),
			Header{Version: 2, Proxied: true, Source: ap("172.19.0.1:42578"), Dest: ap("172.19.0.3:80")}},
		{"v2 tcp6", unhex(t, sig+"21 21 0024 20010db8000000000000000000000001 20010db8000000000000000000000002 0fa0 01bb"),
			Header{Version: 2, Proxied: true, Source: ap("[2001:db8::1]:4000"), Dest: ap("[2001:db8::2]:443")}},
		{"v2 tcp6 v4-mapped", unhex(t, sig+"21 21 0024 00000000000000000000ffffc0000201 00000000000000000000ffffc0000202 0fa0 01bb"),
			Header{Version: 2, Proxied: true, Source: ap("192.0.2.1:4000"), Dest: ap("192.0.2.2:443")}},
		// TLVs: PP2_TYPE_ALPN "h2", PP2_TYPE_AUTHORITY "turn.test",
		// PP2_TYPE_NOOP empty.
		{"v2 tcp4 TLVs", unhex(t, sig+"21 11 0020 c0000201 c0000202 0fa0 01bb 01 0002 6832 02 0009 7475726e2e74657374 04 0000"),
			Header{Version: 2, Proxied: true, Source: ap("192.0.2.1:4000"), Dest: ap("192.0.2.2:443")}},
		// LOCAL: a health check; whatever follows the fixed part is skipped.
		{"v2 local", unhex(t, sig+"20 00 0000"), Header{Version: 2}},
		{"v2 local with body", unhex(t, sig+"20 11 000c c0000201 c0000202 0fa0 01bb"), Header{Version: 2}},
		{"v2 unspec", unhex(t, sig+"21 00 0000"), Header{Version: 2}},
		{"v2 unix", unhex(t, sig+"21 31 0004 2f746d70"), Header{Version: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const tail = "\x16\x03\x01next"
			r := bytes.NewReader(append(append([]byte(nil), tt.in...), tail...))
			h, err := Read(r)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if h != tt.want {
				t.Errorf("Read = %+v, want %+v", h, tt.want)
			}
			rest, _ := io.ReadAll(r)
			if string(rest) != tail {
				t.Errorf("left %q after the header, want %q", rest, tail)
			}
		})
	}
}

func TestReadInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"tls", []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcdefgh"), ErrNoHeader},
		{"stun", unhex(t, "0001 0000 2112a442 000000000000000000000000"), ErrNoHeader},
		{"not PROXY", []byte("PUT / HTTP/1.1\r\n\r\n"), ErrNoHeader},
		{"v1 lowercase", []byte("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), ErrNoHeader},
		{"v1 no CRLF in 107", []byte(strings.Repeat("PROXY UNKNOWN ", 10)), ErrMalformed},
		{"v1 108 bytes", []byte("PROXY UNKNOWN " + strings.Repeat("x", 92) + "\r\n"), ErrMalformed},
		{"v1 LF only", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + strings.Repeat("x", 100)), ErrMalformed},
		{"v1 udp", []byte("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), ErrMalformed},
		{"v1 double space", []byte("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), ErrMalformed},
		{"v1 missing port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), ErrMalformed},
		{"v1 extra field", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), ErrMalformed},
		{"v1 tcp4 with ipv6", []byte("PROXY TCP4 ::1 ::1 1 2\r\n"), ErrMalformed},
		{"v1 tcp6 with ipv4", []byte("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), ErrMalformed},
		{"v1 port too big", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), ErrMalformed},
		{"v1 signed port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"), ErrMalformed},
		{"v1 zone", []byte("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), ErrMalformed},
		{"v2 bad signature", unhex(t, "0d0a0d0a 000d0a51 5549540b 21 11 000c c0000201 c0000202 0fa0 01bb"), ErrNoHeader},
		{"v2 version 1", unhex(t, sig+"11 11 000c c0000201 c0000202 0fa0 01bb"), ErrMalformed},
		{"v2 command 2", unhex(t, sig+"22 11 000c c0000201 c0000202 0fa0 01bb"), ErrMalformed},
		{"v2 family 4", unhex(t, sig+"21 41 000c c0000201 c0000202 0fa0 01bb"), ErrMalformed},
		{"v2 transport 3", unhex(t, sig+"21 13 000c c0000201 c0000202 0fa0 01bb"), ErrMalformed},
		{"v2 udp4", unhex(t, sig+"21 12 000c c0000201 c0000202 0fa0 01bb"), ErrUnsupported},
		{"v2 short addresses", unhex(t, sig+"21 11 000b c0000201 c0000202 0fa0 01"), ErrMalformed},
		{"v2 tcp6 short", unhex(t, sig+"21 21 000c c0000201 c0000202 0fa0 01bb"), ErrMalformed},
		{"v2 TLV overrun", unhex(t, sig+"21 11 0010 c0000201 c0000202 0fa0 01bb 01 0005 6832"), ErrMalformed},
		{"v2 TLV stub", unhex(t, sig+"21 11 000e c0000201 c0000202 0fa0 01bb 01 00"), ErrMalformed},
		{"v2 too long", unhex(t, sig+"21 11 0801"), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Errorf("Read: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadTruncated(t *testing.T) {
	for _, full := range [][]byte{
		[]byte("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n"),
		unhex(t, sig+"21 11 0010 c0000201 c0000202 0fa0 01bb 04 0001 00"),
	} {
		for n := range len(full) {
			_, err := Read(bytes.NewReader(full[:n]))
			want := io.ErrUnexpectedEOF
			if n == 0 {
				want = io.EOF
			}
			if !errors.Is(err, want) {
				t.Errorf("Read(% x): %v, want %v", full[:n], err, want)
			}
		}
	}
}

func TestStarts(t *testing.T) {
	for b := range 256 {
		want := b == 'P' || b == '\r'
		if got := Starts(byte(b)); got != want {
			t.Errorf("Starts(%#02x) = %v", b, got)
		}
	}
}
