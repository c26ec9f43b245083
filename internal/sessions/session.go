package sessions

import (
	"net/netip"
	"time"
)

// Session is one live allocation as the admin endpoints list it. It never
// holds a password or key.
type Session struct {
	// ID names the session on this node until it ends.
	ID string `json:"id"`
	// User is the username the allocation was created with; Identity is
	// whom it names (the identity part of an ephemeral username, or a
	// static user's name).
	User     string `json:"user"`
	Identity string `json:"identity"`
	// Tenant names the tenant of the credential ("default" for the
	// edge's own realm).
	Tenant string `json:"tenant"`
	// Dialect is "rfc" or "ms-turn"; Transport the client connection's
	// protocol ("udp", "tcp", "tls", "pseudo-tls"); RelayProtocol the
	// relayed address's ("udp", or "tcp" for RFC 6062).
	Dialect       string `json:"dialect"`
	Transport     string `json:"transport"`
	RelayProtocol string `json:"relay_protocol"`
	// Client is the client's transport address as the edge sees it.
	Client netip.AddrPort `json:"client"`
	// Relayed are the relayed transport addresses (two for a dual
	// allocation), as bound on the relay interface.
	Relayed []netip.AddrPort `json:"relayed"`
	// Peers are the peers the allocation holds permissions for.
	Peers []Peer `json:"peers"`
	// Start is when the allocation was made; Expires when it ends unless
	// refreshed.
	Start   time.Time `json:"start"`
	Expires time.Time `json:"expires"`
	// Packets and bytes relayed each way so far.
	ToPeerPackets   uint64 `json:"to_peer_packets"`
	ToPeerBytes     uint64 `json:"to_peer_bytes"`
	ToClientPackets uint64 `json:"to_client_packets"`
	ToClientBytes   uint64 `json:"to_client_bytes"`
	// BandwidthCap is the allocation's cap in bytes per second each way;
	// 0: none.
	BandwidthCap uint64 `json:"bandwidth_cap_bytes_per_second"`
}

// Peer is a peer IP address an allocation holds a permission for, with the
// channels bound to its transport addresses.
type Peer struct {
	// Address is the peer's IP address.
	Address netip.Addr `json:"address"`
	// Expires is when the permission ends unless refreshed.
	Expires time.Time `json:"expires"`
	// Channels are the channel numbers bound to the peer's transport
	// addresses, with those addresses.
	Channels []Channel `json:"channels,omitempty"`
}

// Channel is a channel binding (RFC 8656 §12).
type Channel struct {
	// Number is the channel number, 0x4000 to 0x4FFF.
	Number uint16 `json:"number"`
	// Peer is the peer transport address bound to it.
	Peer netip.AddrPort `json:"peer"`
}

// Filter selects sessions; an empty field matches every session.
type Filter struct {
	// User and Identity must equal the session's, when set.
	User, Identity string
}

// Match reports whether s passes f.
func (f Filter) Match(s *Session) bool {
	return (f.User == "" || f.User == s.User) && (f.Identity == "" || f.Identity == s.Identity)
}
