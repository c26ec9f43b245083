package allocation

import (
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// start is the fake clock's initial time in every test.
var start = time.Unix(1_700_000_000, 0)

// newClock returns a fake clock at start.
func newClock() *clock.Fake { return clock.NewFake(start) }

// tuple returns a distinct UDP 5-tuple for each i.
func tuple(i int) FiveTuple {
	return FiveTuple{
		Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), uint16(1024+i%60000)),
		Server: netip.MustParseAddrPort("203.0.113.1:3478"),
		Proto:  UDP,
	}
}

// ap parses an address and port.
func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// ip parses an address.
func ip(s string) netip.Addr { return netip.MustParseAddr(s) }
