package server

import (
	"errors"
	"net/netip"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// checkPeer applies the family rule (443), the peer policy and the peer
// rule (403) to a peer address, answering r on failure. RFC 8656 §10.2 and
// §12.2: a peer address of a family the allocation has no relayed address
// of gets 443; a dual allocation accepts peers of both families, each
// relayed through the relayed address of its own family. The edge's own
// addresses are refused unless on a relay port (peerRule.selfRefused);
// exact says that the port is the one packets will go to (ChannelBind,
// Connect), so the peer ports apply too: a permission is for an IP
// address, whatever port its request names, and Send checks each
// datagram's port.
func (w *worker) checkPeer(r *request, s *session, peer netip.AddrPort, exact bool) bool {
	ip := peer.Addr()
	if s.relayFor(ip) == nil {
		w.fail(r, stun.CodePeerAddrFamilyMismatch)
		return false
	}
	rule := w.env.peers.Load()
	if !w.env.tenants.peerAllowed(w.env.policy.Load(), s.owner, ip) || rule.selfRefused(peer) || (exact && rule.portRefused(peer.Port())) {
		w.env.log.Debug("peer refused", "client", r.ft.Client, "peer", peer)
		w.refuse(r, stats.RefusedPeerDenied)
		return false
	}
	return true
}

// createPermission implements RFC 8656 §9.2 "Receiving a CreatePermission
// Request": every XOR-PEER-ADDRESS is checked before any is installed, so the
// request succeeds or fails as a whole.
func (w *worker) createPermission(r *request) {
	s := w.session(r)
	if s == nil {
		return
	}
	peers, err := stunproto.PeerAddresses(r.m, w.peers[:0])
	w.peers = peers[:0]
	if err != nil || len(peers) == 0 {
		w.fail(r, stun.CodeBadRequest)
		return
	}
	for _, p := range peers {
		if !w.checkPeer(r, s, p, false) {
			return
		}
	}
	w.ips = w.ips[:0]
	for _, p := range peers {
		w.ips = append(w.ips, p.Addr())
	}
	if err := s.alloc.AddPermissions(w.ips, r.now); err != nil {
		// Over the per-allocation cap: "the server is unable to fulfil
		// the request due to some capacity limit" → 508, and nothing is
		// installed.
		w.refuse(r, stats.RefusedPermissionsLimit)
		return
	}
	w.offloadPermitted(s, w.ips, r.now)
	w.succeed(r)
}

// channelBind implements RFC 8656 §11.2 "Receiving a ChannelBind Request".
func (w *worker) channelBind(r *request) {
	s := w.session(r)
	if s == nil {
		return
	}
	// Channels carry datagrams; a TCP allocation relays over peer data
	// connections only (RFC 6062 §5).
	if s.tcp != nil {
		w.fail(r, stun.CodeBadRequest)
		return
	}
	var num stunproto.ChannelNumber
	var peer stunproto.XORPeerAddress
	if num.GetFrom(r.m) != nil || peer.GetFrom(r.m) != nil {
		w.fail(r, stun.CodeBadRequest)
		return
	}
	addr := netip.AddrPortFrom(peer.Addr.Addr().Unmap(), peer.Addr.Port())
	if !w.checkPeer(r, s, addr, true) {
		return
	}
	err := s.alloc.BindChannel(uint16(num), addr, r.now)
	switch {
	case err == nil:
		w.c.channelBinds[stats.RangeOf(uint16(num))].Add(1)
		w.offloadBind(s, uint16(num), addr, r.now)
		w.succeed(r)
	case errors.Is(err, allocation.ErrTooManyChannels):
		w.refuse(r, stats.RefusedChannelsLimit)
	case errors.Is(err, allocation.ErrTooManyPermissions):
		w.refuse(r, stats.RefusedPermissionsLimit)
	default:
		// Channel number out of range, bound to another peer, or peer
		// bound to another channel (RFC 8656 §11.2): 400.
		w.env.log.Debug("channel bind refused", "client", r.ft.Client, "channel", uint16(num), "peer", addr, "err", err)
		w.fail(r, stun.CodeBadRequest)
	}
}
