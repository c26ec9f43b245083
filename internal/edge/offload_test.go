package edge

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
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
// privileges, or not Linux); tc and xdp make that an error naming the
// mode.
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
	for _, mode := range []string{config.OffloadTC, config.OffloadXDP} {
		_, err := openOffload(mode, loopbackRelay, log)
		if !errors.Is(err, ErrOffload) || !strings.HasPrefix(err.Error(), "datapath.offload: "+mode+": ") {
			t.Errorf("%s on loopback: %v, want ErrOffload naming the mode", mode, err)
		}
	}
	mixed := loopbackRelay
	mixed.Listeners = []netip.AddrPort{netip.MustParseAddrPort("[::1]:3478")}
	if _, err := openOffload(config.OffloadTC, mixed, log); !errors.Is(err, ErrOffload) ||
		!strings.Contains(err.Error(), "no UDP listener on an IPv4 address") {
		t.Errorf("tc with only an IPv6 listener and an IPv4 relay address: %v", err)
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

// TestOffloadAddrs: the program runs where the concrete listener
// addresses and the relay address of each family that has both are, and
// on every interface of a family with a wildcard listener; an IPv6-only
// edge offloads; a family with no listener, or with no relay address,
// adds nothing; nothing left is an error saying why.
func TestOffloadAddrs(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	l4, l6 := netip.AddrPortFrom(v4, 3478), netip.AddrPortFrom(v6, 3478)
	any4, any6 := netip.MustParseAddrPort("0.0.0.0:3478"), netip.MustParseAddrPort("[::]:3478")
	relay4, relay6 := netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("2001:db8::9")
	u4, u6 := netip.IPv4Unspecified(), netip.IPv6Unspecified()
	for _, tc := range []struct {
		name      string
		listeners []netip.AddrPort
		relay4    netip.Addr
		relay6    netip.Addr
		want      []netip.Addr
		wild      []netip.Addr
		err       string
	}{
		{"IPv4", []netip.AddrPort{l4, l6}, relay4, netip.Addr{}, []netip.Addr{v4, relay4}, nil, ""},
		{"IPv6 only", []netip.AddrPort{l6}, netip.Addr{}, relay6, []netip.Addr{v6, relay6}, nil, ""},
		{"dual", []netip.AddrPort{l4, l6, l4}, relay4, relay6, []netip.Addr{v4, relay4, v6, relay6}, nil, ""},
		{"IPv4 wildcard", []netip.AddrPort{any4, l6}, relay4, relay6, []netip.Addr{relay4, v6, relay6}, []netip.Addr{u4}, ""},
		{"no IPv6 listener", []netip.AddrPort{l4}, relay4, relay6, []netip.Addr{v4, relay4}, nil, ""},
		{"wildcards", []netip.AddrPort{any4, any6}, relay4, relay6, []netip.Addr{relay4, relay6}, []netip.Addr{u4, u6}, ""},
		{"wildcard and concrete", []netip.AddrPort{l4, any4}, relay4, netip.Addr{}, []netip.Addr{v4, relay4}, []netip.Addr{u4}, ""},
		{"mixed only", []netip.AddrPort{l6}, relay4, netip.Addr{}, nil, nil, "no UDP listener on an IPv4 address"},
		{"no relay", []netip.AddrPort{l4}, netip.Addr{}, netip.Addr{}, nil, nil, "no relay address"},
	} {
		opts := server.Options{Listeners: tc.listeners, RelayAddr: tc.relay4, RelayAddrV6: tc.relay6}
		got, wild, err := offloadAddrs(opts)
		if !slices.Equal(got, tc.want) || !slices.Equal(wild, tc.wild) || (err == nil) != (tc.err == "") ||
			err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, %v, %v; want %v, %v, %q", tc.name, got, wild, err, tc.want, tc.wild, tc.err)
		}
	}
}

// TestInterfacesWith: a wildcard listener's family needs an interface
// that is up, Ethernet and holds an address of the family: loopback alone
// is an error (the netns test TestOffloadedEdge/wildcard finds the veths).
func TestInterfacesWith(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the loopback interface is named lo on Linux")
	}
	loOnly := func() ([]net.Interface, error) {
		lo, err := net.InterfaceByName("lo")
		if err != nil {
			return nil, err
		}
		return []net.Interface{*lo}, nil
	}
	if got, err := interfacesWith([]netip.Addr{netip.IPv4Unspecified()}, loOnly); err == nil ||
		!strings.Contains(err.Error(), "no Ethernet interface") {
		t.Errorf("interfacesWith on lo alone = %v, %v; want no Ethernet interface", got, err)
	}
	if got, err := interfacesWith(nil, loOnly); got != nil || err != nil {
		t.Errorf("interfacesWith without wildcards = %v, %v; want nothing", got, err)
	}
}

// TestOpenOffloadIPv6Only: an IPv6-only edge on loopback gets as far as
// the interface (lo, not Ethernet), where an IPv4-only offload stopped at
// the missing IPv4 relay address.
func TestOpenOffloadIPv6Only(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the loopback interface holds ::1 on Linux")
	}
	if _, err := interfacesOf([]netip.Addr{netip.MustParseAddr("::1")}, net.Interfaces); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("lo must hold ::1 in CI: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	opts := server.Options{
		Listeners:   []netip.AddrPort{netip.MustParseAddrPort("[::1]:3478")},
		RelayAddrV6: netip.MustParseAddr("::1"),
	}
	_, err := openOffload(config.OffloadTC, opts, slog.New(slog.DiscardHandler))
	if !errors.Is(err, ErrOffload) || strings.Contains(err.Error(), "relay address") || strings.Contains(err.Error(), "no interface") {
		t.Errorf("tc on an IPv6-only loopback edge: %v; want the interface's or the kernel's refusal", err)
	}
}
