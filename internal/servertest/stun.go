package servertest

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// STUNServer is a bare STUN server on 127.0.0.1 that answers Binding
// requests as a server beyond a 1:1 NAT would.
type STUNServer struct {
	// Addr is where it listens.
	Addr     netip.AddrPort
	requests atomic.Int64
}

// NewSTUN runs a STUNServer until the test ends. It answers each Binding
// request with XOR-MAPPED-ADDRESS mapped (the request's source address
// when mapped is the zero AddrPort: no NAT), except the first drop ones,
// which it leaves unanswered (a negative drop: all of them).
func NewSTUN(tb testing.TB, mapped netip.AddrPort, drop int) *STUNServer {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	s := &STUNServer{Addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
	done := make(chan struct{})
	tb.Cleanup(func() {
		c.Close()
		<-done
	})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if m.Decode() != nil || m.Type != stun.BindingRequest {
				continue
			}
			if n := s.requests.Add(1); drop < 0 || n <= int64(drop) {
				continue
			}
			to := mapped
			if !to.IsValid() {
				to = from
			}
			res, err := stun.Build(m, stun.BindingSuccess, &stunproto.XORMappedAddress{Addr: to}, stun.Fingerprint)
			if err == nil {
				_, _ = c.WriteToUDPAddrPort(res.Raw, from)
			}
		}
	}()
	return s
}

// Requests returns the number of Binding requests received so far.
func (s *STUNServer) Requests() int { return int(s.requests.Load()) }
