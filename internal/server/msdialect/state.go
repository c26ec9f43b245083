package msdialect

import (
	"net/netip"
	"slices"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/msturn"
)

// maxVersion is the highest MS-VERSION the edge speaks ([MS-TURN]
// §2.2.2.17): 3 adds HMAC-SHA256 message integrity, 4 IPv6 relayed
// addresses (REQUESTED-ADDRESS-FAMILY). Versions 5 and 6 add the
// multiplexed TURN format, which the edge does not speak: clients that
// offer them are answered 4, the version both sides then use.
const maxVersion = 4

// maxDests bounds the peer transport addresses one allocation may send
// to: an ICE agent sends to each of its peer's candidates, a handful.
const maxDests = 64

// State is the dialect's state of an allocation made with [MS-TURN].
type State struct {
	// session is the core's session of the allocation, and alloc and
	// stream its allocation and whether its client is on TCP, kept here
	// so that the forwarding path needs no call through Session (Attach).
	session Session
	alloc   *allocation.Allocation
	stream  bool
	// integ checks and signs with the allocation's key.
	integ *msturn.Integrity
	// nonce is the NONCE the allocation was created with; refreshes
	// carry it for the allocation's whole life (clients never ask again).
	nonce   string
	version uint32
	// seq is the allocation's MS-SEQUENCE-NUMBER: the connection ID it
	// gave the client and the last number the client used.
	seq msturn.Sequence
	// numbered: the client has numbered a request; from then on every
	// request must be.
	numbered bool
	// sad is the answer to the last Set Active Destination, success or
	// error, and sadID its transaction ID, for its retransmissions (same
	// sequence number, same transaction ID).
	sad   []byte
	sadID msturn.TxID
	// active is the active destination: data to and from it travels
	// raw (UDP) or in end-to-end frames (TCP). Invalid when unset.
	active netip.AddrPort
	// dests are the peer transport addresses the client has sent to or
	// made active: the dialect's permissions, by transport address, at
	// most maxDests of them (and each peer IP also holds an ordinary
	// permission, which expires).
	dests []netip.AddrPort
	// keepUntil is the latest the allocation may live (Core.KeepUntil):
	// no lifetime granted reaches beyond it, and an allocation over TCP
	// lives while its connection is open, but not beyond it (KeepAlive).
	keepUntil time.Time
}

// newState returns the dialect's state for an allocation whose requests
// verify with key, MS-SEQUENCE-NUMBER numbered from 0 (the handler draws
// its connection ID, Handler.NewConnID).
func newState(key []byte, nonce string, version uint32, keepUntil time.Time) *State {
	return &State{integ: msturn.NewIntegrity(key), nonce: nonce, version: version, keepUntil: keepUntil}
}

// Attach ties ms to the session the core made for it (Core.Allocate does,
// before the session relays anything).
func (ms *State) Attach(s Session) {
	ms.session, ms.alloc, ms.stream = s, s.Alloc(), s.Stream()
}

// Active returns the active destination, or the zero AddrPort.
func (ms *State) Active() netip.AddrPort { return ms.active }

// FromActive reports whether from is the active destination of a live
// allocation: media's case of Handler.FromPeer, small enough for the core
// to inline on its forwarding path.
func (ms *State) FromActive(from netip.AddrPort, now time.Time) bool {
	return from == ms.active && !ms.alloc.Expired(now)
}

// permits reports whether the client has sent to peer (see dests).
func (ms *State) permits(peer netip.AddrPort) bool { return slices.Contains(ms.dests, peer) }

// keepSAD keeps the answer out to the Set Active Destination id for its
// retransmissions.
func (ms *State) keepSAD(id msturn.TxID, out []byte) {
	ms.sad, ms.sadID = append(ms.sad[:0], out...), id
}

// sequence applies the MS-SEQUENCE-NUMBER rules to a Send or Set Active
// Destination request of the allocation ([MS-TURN] §2.2.2.21): a request
// must carry the allocation's connection ID and a number above the last
// one (serial number arithmetic); the last number again is a
// retransmission (retry true). Until the client has numbered a request,
// requests without the attribute pass (the dialect's first clients do
// not number them); once it has, every request must be numbered, so that
// none can be replayed. It reports false for a request to drop.
func (ms *State) sequence(m *msturn.Message) (ok, retry bool) {
	seq, err := m.Sequence()
	switch {
	case err == msturn.ErrNotFound:
		return !ms.numbered, false
	case err != nil || seq.ConnID != ms.seq.ConnID:
		return false, false
	case ms.numbered && seq.Number == ms.seq.Number:
		return true, true
	case ms.numbered && int32(seq.Number-ms.seq.Number) < 0:
		return false, false
	}
	ms.seq.Number, ms.numbered = seq.Number, true
	return true, false
}

// recheck applies the current peer policy to the peers the client has
// sent to, on every refresh of the allocation: a peer the policy now
// denies loses its permission and, if it was the active destination, that
// role. RFC TURN permissions get the same check when they are refreshed.
func (ms *State) recheck(allowed func(netip.AddrPort) bool) {
	ms.dests = slices.DeleteFunc(ms.dests, func(p netip.AddrPort) bool { return !allowed(p) })
	if ms.active.IsValid() && !allowed(ms.active) {
		ms.active = netip.AddrPort{}
	}
}
