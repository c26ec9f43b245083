package datapath

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestListenUDPV6Only(t *testing.T) {
	requireIPv6(t)
	c := listen(t, loop6, ListenConfig{})
	v, err := unix.GetsockoptInt(c.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
	if err != nil {
		t.Fatal(err)
	}
	if v != 1 {
		t.Fatalf("IPV6_V6ONLY = %d, want 1", v)
	}
}

func TestListenUDPBuffers(t *testing.T) {
	const size = 1 << 20
	c := listen(t, loop4, ListenConfig{RecvBuffer: size, SendBuffer: size})
	for _, opt := range []struct {
		name string
		opt  int
	}{{"SO_RCVBUF", unix.SO_RCVBUF}, {"SO_SNDBUF", unix.SO_SNDBUF}} {
		got, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, opt.opt)
		if err != nil {
			t.Fatal(err)
		}
		// With CAP_NET_ADMIN the *BUFFORCE options apply the size
		// (doubled by the kernel); without, it is capped by sysctl.
		if os.Geteuid() == 0 && got < size {
			t.Errorf("%s = %d, want at least %d", opt.name, got, size)
		}
		if got <= 0 {
			t.Errorf("%s = %d", opt.name, got)
		}
	}
}

func TestWriteTo(t *testing.T) {
	requireIPv6(t)
	p4 := peer(t, loop4)
	p6 := peer(t, loop6)
	a4 := p4.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort()
	a6 := p6.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort()
	c4 := listen(t, loop4, ListenConfig{})
	c6 := listen(t, loop6, ListenConfig{})
	mapped := netip.AddrPortFrom(netip.AddrFrom16(a4.Addr().As16()), a4.Port())

	tests := []struct {
		name    string
		c       *Conn
		to      netip.AddrPort
		payload []byte
		wantErr error
		errno   unix.Errno
	}{
		{"ipv4", c4, a4, []byte("hello v4"), nil, 0},
		{"ipv4 mapped destination", c4, mapped, []byte("hello mapped"), nil, 0},
		{"ipv6", c6, a6, []byte("hello v6"), nil, 0},
		{"empty datagram", c4, a4, []byte{}, nil, 0},
		{"ipv6 destination on ipv4 socket", c4, a6, []byte("x"), ErrBadAddress, 0},
		{"ipv4 destination on ipv6 socket", c6, a4, []byte("x"), ErrBadAddress, 0},
		{"invalid destination", c4, netip.AddrPort{}, []byte("x"), ErrBadAddress, 0},
		{"named zone", c6, netip.MustParseAddrPort("[fe80::1%eth0]:9"), []byte("x"), ErrBadAddress, 0},
		{"too large", c4, a4, make([]byte, 70000), ErrSend, unix.EMSGSIZE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.WriteTo(tt.payload, tt.to)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WriteTo error = %v, want %v", err, tt.wantErr)
			}
			if tt.errno != 0 && !errors.Is(err, tt.errno) {
				t.Fatalf("WriteTo error = %v, want errno %v", err, tt.errno)
			}
			if err != nil {
				return
			}
			p := p4
			if tt.c == c6 {
				p = p6
			}
			got, from := readFrom(t, p)
			if !bytes.Equal(got, tt.payload) {
				t.Fatalf("peer got %q, want %q", got, tt.payload)
			}
			if from != tt.c.LocalAddr() {
				t.Fatalf("peer got it from %v, want %v", from, tt.c.LocalAddr())
			}
		})
	}
}

func TestSendErrorMessage(t *testing.T) {
	err := error(sendError{errno: unix.EMSGSIZE})
	want := "datapath: send failed: " + unix.EMSGSIZE.Error()
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, ErrSend) || !errors.Is(err, unix.EMSGSIZE) || errors.Is(err, ErrWouldBlock) {
		t.Fatalf("errors.Is mismatch for %v", err)
	}
}
