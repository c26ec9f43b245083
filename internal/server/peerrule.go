package server

import (
	"net/netip"

	"github.com/avedge/avedge/internal/policy"
)

// PortRange is an inclusive range of ports.
type PortRange struct{ Min, Max uint16 }

// peerRule is what the relay refuses beyond the peer policy, which judges
// addresses alone: the edge's own addresses (Options.Self) unless on a
// relay port, so that no allocation reaches a service of the edge's host
// (hairpin), and peer ports outside Options.PeerPorts. Immutable: SetSelf
// swaps in another.
type peerRule struct {
	self               []netip.Addr // unmapped, without zones
	relayMin, relayMax uint16
	ports              []PortRange // empty: every port but 0
}

// newPeerRule returns the rule of self, the relay port range and ports.
func newPeerRule(self []netip.Addr, relayMin, relayMax int, ports []PortRange) *peerRule {
	r := &peerRule{relayMin: uint16(relayMin), relayMax: uint16(relayMax), ports: ports}
	for _, a := range self {
		a = a.Unmap().WithZone("")
		if a.IsValid() && !containsAddr(r.self, a) {
			r.self = append(r.self, a)
		}
	}
	return r
}

// selfRefused reports whether peer is on one of the edge's own addresses
// and not on a relay port: two allocations of one edge reach each other
// through their relayed addresses, and nothing else of the edge's host is
// reachable through it.
func (r *peerRule) selfRefused(peer netip.AddrPort) bool {
	if len(r.self) == 0 {
		return false
	}
	// An IPv6 form that carries one of the edge's IPv4 addresses (NAT64,
	// 6to4, Teredo, ...) reaches it through a translator on the way.
	if a := peer.Addr().Unmap(); !containsAddr(r.self, a) && !policy.CarriesAny(a, r.self) {
		return false
	}
	p := peer.Port()
	return p < r.relayMin || p > r.relayMax
}

// portRefused reports whether port is no peer's: 0, or outside the peer
// ports when they are set.
func (r *peerRule) portRefused(port uint16) bool {
	if port == 0 {
		return true
	}
	if len(r.ports) == 0 {
		return false
	}
	for _, pr := range r.ports {
		if port >= pr.Min && port <= pr.Max {
			return false
		}
	}
	return true
}

// refused reports whether packets or connections to peer, a peer
// transport address with its real port, are refused.
func (r *peerRule) refused(peer netip.AddrPort) bool {
	return r.portRefused(peer.Port()) || r.selfRefused(peer)
}

// containsAddr reports whether addrs holds a; the list is a few addresses
// long, so a scan beats a map.
func containsAddr(addrs []netip.Addr, a netip.Addr) bool {
	for _, b := range addrs {
		if a == b {
			return true
		}
	}
	return false
}

// withSelf returns r with the edge's own addresses self.
func (r *peerRule) withSelf(self []netip.Addr) *peerRule {
	return newPeerRule(self, int(r.relayMin), int(r.relayMax), r.ports)
}
