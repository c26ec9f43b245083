package edge

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/server"
)

// loopbackRelay is a relay on the loopback interface, which the offload
// cannot attach to (it is not Ethernet).
var loopbackRelay = server.Options{
	Listeners: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:3478")},
	RelayAddr: netip.MustParseAddr("127.0.0.1"),
}

// TestOpenOffloadModes: off opens nothing; auto falls back to user space
// and logs why when the offload cannot run (here: a loopback relay, or no
// privileges, or not Linux); tc makes that an error.
func TestOpenOffloadModes(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if l, err := openOffload(config.OffloadOff, loopbackRelay, log); l != nil || err != nil || logs.Len() != 0 {
		t.Errorf("off: %v, %v, logged %q", l, err, logs.String())
	}
	if l, err := openOffload(config.OffloadAuto, loopbackRelay, log); l != nil || err != nil {
		t.Errorf("auto on loopback: %v, %v; want nil, nil", l, err)
	}
	if !strings.Contains(logs.String(), "offload off") {
		t.Errorf("auto logged %q, want why the offload is off", logs.String())
	}
	_, err := openOffload(config.OffloadTC, loopbackRelay, log)
	if !errors.Is(err, ErrOffload) {
		t.Errorf("tc on loopback: %v, want ErrOffload", err)
	}
	wildcard := loopbackRelay
	wildcard.Listeners = []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:3478")}
	if _, err := openOffload(config.OffloadTC, wildcard, log); !errors.Is(err, ErrOffload) ||
		!strings.Contains(err.Error(), "no UDP listener on a concrete IPv4 address") {
		t.Errorf("tc with a wildcard listener: %v", err)
	}
}

// TestInterfacesOf finds the interface of an address, and fails for an
// address no interface holds.
func TestInterfacesOf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the loopback interface is named lo on Linux")
	}
	lo := netip.MustParseAddr("127.0.0.1")
	names, err := interfacesOf([]netip.Addr{lo, lo}, net.Interfaces)
	if err != nil || !slices.Equal(names, []string{"lo"}) {
		t.Errorf("interfacesOf(127.0.0.1 twice) = %v, %v; want [lo]", names, err)
	}
	if _, err := interfacesOf([]netip.Addr{netip.MustParseAddr("192.0.2.77")}, net.Interfaces); err == nil {
		t.Error("interfacesOf(192.0.2.77) found an interface")
	}
}
