package datapath

import (
	"errors"
	"net/netip"
	"testing"
)

func TestListenUDPPortZero(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		tests := []struct {
			name string
			addr netip.AddrPort
			v6   bool
		}{
			{"ipv4", loop4, false},
			{"ipv4-mapped listen address", netip.MustParseAddrPort("[::ffff:127.0.0.1]:0"), false},
			{"ipv6", loop6, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.v6 {
					requireIPv6(t)
				}
				c := dp.listen(t, tt.addr, ListenConfig{})
				got := c.LocalAddr()
				if got.Port() == 0 {
					t.Fatalf("LocalAddr() = %v, want a kernel-chosen port", got)
				}
				if got.Addr() != tt.addr.Addr().Unmap() {
					t.Fatalf("LocalAddr().Addr() = %v, want %v", got.Addr(), tt.addr.Addr().Unmap())
				}
				if !tt.v6 && !got.Addr().Is4() {
					t.Fatalf("LocalAddr() = %v, want a plain 4-byte address", got)
				}
			})
		}
	})
}

func TestListenUDPErrors(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		tests := []struct {
			name string
			addr netip.AddrPort
			cfg  ListenConfig
			want error
		}{
			{"invalid address", netip.AddrPort{}, ListenConfig{}, ErrBadAddress},
			{"named zone", netip.MustParseAddrPort("[fe80::1%eth0]:0"), ListenConfig{}, ErrBadAddress},
			{"negative receive buffer", loop4, ListenConfig{RecvBuffer: -1}, ErrBadOptions},
			{"negative send buffer", loop4, ListenConfig{SendBuffer: -1}, ErrBadOptions},
			{"address not local", netip.MustParseAddrPort("192.0.2.1:0"), ListenConfig{}, ErrAddrNotAvailable},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c, err := dp.listenUDP(tt.addr, tt.cfg)
				if !errors.Is(err, tt.want) {
					if c != nil {
						_ = c.Close()
					}
					t.Fatalf("dp.listenUDP(%v, %+v) error = %v, want %v", tt.addr, tt.cfg, err, tt.want)
				}
			})
		}
	})
}

func TestListenUDPAddrInUse(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		tests := []struct {
			name          string
			first, second bool // ReusePort of each socket
			wantErr       error
		}{
			{"neither reuses", false, false, ErrAddrInUse},
			{"only second reuses", false, true, ErrAddrInUse},
			{"only first reuses", true, false, ErrAddrInUse},
			{"both reuse", true, true, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := dp.listen(t, loop4, ListenConfig{ReusePort: tt.first})
				b, err := dp.listenUDP(a.LocalAddr(), ListenConfig{ReusePort: tt.second})
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("second bind of %v: error = %v, want %v", a.LocalAddr(), err, tt.wantErr)
				}
				if b == nil {
					return
				}
				defer b.Close()
				if b.LocalAddr() != a.LocalAddr() {
					t.Fatalf("second LocalAddr() = %v, want %v", b.LocalAddr(), a.LocalAddr())
				}
			})
		}
	})
}

func TestConnCloseIdempotent(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		c, err := dp.listenUDP(loop4, ListenConfig{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := c.Close(); err != nil {
				t.Fatalf("Close #%d: %v", i+1, err)
			}
		}
		if err := c.WriteTo([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9")); !errors.Is(err, ErrClosed) {
			t.Fatalf("WriteTo after Close = %v, want ErrClosed", err)
		}
	})
}

func TestDontFragment(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		requireIPv6(t)
		for _, addr := range []netip.AddrPort{loop4, loop6} {
			c := dp.listen(t, addr, ListenConfig{})
			for i, step := range []struct {
				set  bool
				on   bool
				want bool
			}{
				{false, false, false}, // the default
				{true, true, true},
				{true, true, true}, // idempotent
				{true, false, false},
			} {
				if step.set {
					if err := c.SetDontFragment(step.on); err != nil {
						t.Fatalf("%v step %d: SetDontFragment(%v): %v", addr, i, step.on, err)
					}
				}
				if got, err := c.DontFragment(); err != nil || got != step.want {
					t.Fatalf("%v step %d: DontFragment = %v, %v; want %v", addr, i, got, err, step.want)
				}
			}
			if err := c.SetDontFragment(true); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := c.SetDontFragment(true); !errors.Is(err, ErrClosed) {
				t.Fatalf("SetDontFragment after Close = %v, want ErrClosed", err)
			}
			if _, err := c.DontFragment(); !errors.Is(err, ErrClosed) {
				t.Fatalf("DontFragment after Close = %v, want ErrClosed", err)
			}
		}
	})
}

// TestWriteToAllocs: WriteTo does not allocate, whether it sends or
// refuses the destination; on the fast path a send the kernel fails does
// not either (on the portable path the standard library allocates its
// error).
func TestWriteToAllocs(t *testing.T) {
	forEachPath(t, func(t *testing.T, dp path) {
		sink := dp.listen(t, loop4, ListenConfig{})
		c := dp.listen(t, loop4, ListenConfig{})
		payload := make([]byte, 200)
		big := make([]byte, 70000)
		v6 := netip.MustParseAddrPort("[2001:db8::1]:9")
		tests := []struct {
			name     string
			b        []byte
			to       netip.AddrPort
			fastOnly bool
		}{
			{"sent", payload, sink.LocalAddr(), false},
			{"wrong family", payload, v6, false},
			{"send error", big, sink.LocalAddr(), true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.fastOnly && dp.portable {
					t.Skip("the portable path allocates the error of a failed send")
				}
				allocs := testing.AllocsPerRun(1000, func() {
					_ = c.WriteTo(tt.b, tt.to)
				})
				if allocs != 0 {
					t.Fatalf("WriteTo allocates %v times per call, want 0", allocs)
				}
			})
		}
	})
}
