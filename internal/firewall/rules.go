// Package firewall derives, from an avedge configuration, the port table an
// operator hands the firewall team (direction, interface, protocol, ports,
// purpose, like the port summaries of enterprise edge deployment guides)
// and nftables and iptables rulesets that open exactly those ports. Its
// functions are pure: they read a *config.Config and return text.
package firewall

import (
	"net/netip"
	"strconv"

	"github.com/avedge/avedge/internal/config"
)

// Direction is the direction of the connection or flow a rule admits, seen
// from the edge.
type Direction string

// The directions of rules.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Interface names, as in the interfaces section of the configuration.
// Loopback marks an address of the loopback interface when no interfaces
// are configured; Any marks a service bound to every address.
const (
	Internal = "internal"
	External = "external"
	Loopback = "loopback"
	Any      = "any"
)

// Protocols of rules.
const (
	UDP = "UDP"
	TCP = "TCP"
)

// peerPorts are the remote ports relayed media goes to: the unprivileged
// ports, where clients' and peers' ephemeral ports live.
var peerPorts = Ports{Min: 1024, Max: 65535}

// Ports is an inclusive port range; the zero value means any port.
type Ports struct {
	Min, Max uint16
}

// Any reports whether p is the zero value: any port.
func (p Ports) Any() bool { return p == Ports{} }

// String writes p as "3478", "50000-59999" or "any".
func (p Ports) String() string { return p.join("-") }

// join writes p with sep between the bounds of a range.
func (p Ports) join(sep string) string {
	switch {
	case p.Any():
		return "any"
	case p.Min == p.Max:
		return strconv.Itoa(int(p.Min))
	}
	return strconv.Itoa(int(p.Min)) + sep + strconv.Itoa(int(p.Max))
}

// Rule is one row of the port table: traffic the firewall must admit.
type Rule struct {
	// Direction says who opens the flow: inbound rules admit packets to
	// Local, outbound rules packets from it.
	Direction Direction
	// Interface is Internal, External, Loopback or Any.
	Interface string
	// Device is the Linux name of the interface (interfaces.internal.name
	// or interfaces.external.name), or empty when the configuration names
	// none: then the rule matches the address only, on any interface.
	Device string
	// Protocol is UDP or TCP.
	Protocol string
	// Local is the edge's address. An unspecified address stands for every
	// address: 0.0.0.0 those of IPv4, :: those of both families (a
	// dual-stack socket).
	Local netip.Addr
	// LocalPorts are the edge's ports.
	LocalPorts Ports
	// RemotePorts are the other side's ports; the zero value means any.
	RemotePorts Ports
	// Purpose says what the rule is for.
	Purpose string
}

// Rules returns the rules of c's topology in table order: the client
// listeners, the relay ports (UDP, and TCP when a TCP or TLS listener makes
// RFC 6062 TCP allocations possible), the credential service and the admin
// endpoints, then the outbound relay rules. An inbound rule on a side
// whose interface name is configured carries it in Device. Outbound rules
// match the relay address only: peers that peers.allow opens on the
// internal network are reached through the internal interface.
func Rules(c *config.Config) []Rule {
	var out []Rule
	add := func(dir Direction, iface, proto string, a netip.Addr, local, remote Ports, purpose string) {
		dev := deviceOf(c, iface)
		if dir == Outbound {
			dev = ""
		}
		out = append(out, Rule{dir, iface, dev, proto, a, local, remote, purpose})
	}
	stream := false
	for _, l := range c.Listeners {
		proto, purpose := UDP, "STUN/TURN clients over UDP"
		switch {
		case l.Protocol == "tls":
			proto, purpose = TCP, "TURN clients over TLS"
		case l.Stream() && l.TLS != nil:
			proto, purpose = TCP, "TURN clients over TCP and TLS"
		case l.Stream():
			proto, purpose = TCP, "TURN clients over TCP"
		}
		stream = stream || l.Stream()
		a := l.Address.Addr().Unmap()
		add(Inbound, interfaceOf(c, a, External), proto, a, single(l.Address.Port()), Ports{}, purpose)
	}
	relays := c.Relay.Addrs()
	ports := Ports{Min: uint16(c.Relay.PortMin), Max: uint16(c.Relay.PortMax)}
	for _, a := range relays {
		iface := interfaceOf(c, a, External)
		add(Inbound, iface, UDP, a, ports, Ports{}, "relayed media from peers (UDP relay ports)")
		if stream {
			add(Inbound, iface, TCP, a, ports, Ports{}, "relayed TCP connections from peers (RFC 6062)")
		}
	}
	if cs := c.CredentialService; cs != nil {
		a := cs.Listen.Addr().Unmap()
		add(Inbound, interfaceOf(c, a, Internal), TCP, a, single(cs.Listen.Port()), Ports{}, "credential service (mutual TLS) for trusted servers")
	}
	if ad := c.Admin; ad != nil {
		a := ad.Listen.Addr().Unmap()
		add(Inbound, interfaceOf(c, a, Internal), TCP, a, single(ad.Listen.Port()), Ports{}, "admin endpoints (/metrics, /healthz, /readyz, POST /drain)")
	}
	for _, a := range relays {
		iface := interfaceOf(c, a, External)
		add(Outbound, iface, UDP, a, ports, peerPorts, "relayed media to peers (UDP relay ports)")
		if stream {
			add(Outbound, iface, TCP, a, ports, peerPorts, "relayed TCP connections to peers (RFC 6062 Connect)")
		}
	}
	return out
}

// deviceOf returns the configured Linux name of interface iface (Internal
// or External), or "" when there is none.
func deviceOf(c *config.Config, iface string) string {
	switch ifs := c.Interfaces; {
	case ifs == nil:
		return ""
	case iface == Internal:
		return ifs.Internal.Name
	case iface == External:
		return ifs.External.Name
	}
	return ""
}

// Label names r's interface for the table and for rule comments: the
// interface, followed by its device name in parentheses when there is one,
// as in "internal (eth1)".
func (r Rule) Label() string {
	if r.Device == "" {
		return r.Interface
	}
	return r.Interface + " (" + r.Device + ")"
}

// single returns the range of one port.
func single(port uint16) Ports { return Ports{Min: port, Max: port} }

// interfaceOf names the interface of local address a. With interfaces
// configured, a is internal or external (validation guarantees one of
// them). Without, the edge has one interface besides loopback: client
// listeners (fallback External) are on it; the credential service and the
// admin endpoints (fallback Internal) are internal unless they share an
// address with a listener or the relay, or bind every address (Any).
func interfaceOf(c *config.Config, a netip.Addr, fallback string) string {
	if ifs := c.Interfaces; ifs != nil {
		if ifs.Internal.Has(a) {
			return Internal
		}
		return External
	}
	switch {
	case a.IsLoopback():
		return Loopback
	case fallback == External:
		return External
	case a.IsUnspecified():
		return Any
	case sharesExternal(c, a):
		return External
	}
	return Internal
}

// sharesExternal reports whether a is a relay or client listener address.
func sharesExternal(c *config.Config, a netip.Addr) bool {
	if a == c.Relay.Address || a == c.Relay.AddressV6 {
		return true
	}
	for _, l := range c.Listeners {
		if l.Address.Addr().Unmap() == a {
			return true
		}
	}
	return false
}
