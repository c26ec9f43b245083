package allocation

import (
	"net/netip"
	"slices"
	"time"
)

// Channel numbers a client may bind, RFC 8656 §12: "0x4000 through 0x4FFF:
// These values are the allowed channel numbers (4096 possible values)."
// RFC 5766 §11 allowed 0x4000 through 0x7FFF (MaxLegacyChannel), which
// older stacks (coturn's turnutils_uclient among them) still pick from;
// RFC 8656 narrowed it for clients that multiplex DTLS-SRTP on the same
// socket (RFC 7983), which the edge's client sockets never do, so the
// wider range is bound unless Config.StrictChannelNumbers.
const (
	MinChannel       uint16 = 0x4000
	MaxChannel       uint16 = 0x4FFF
	MaxLegacyChannel uint16 = 0x7FFF
)

// channelQuarantine is how long an expired binding keeps its number and peer
// reserved. RFC 8656 §12: a channel binding "MUST NOT be re-bound [to a
// different transport address or channel number] until 5 minutes after the
// binding expires" (the same-pair re-bind stays allowed).
const channelQuarantine = 5 * time.Minute

// channel binds a channel number to a peer transport address.
type channel struct {
	peer    netip.AddrPort
	expires int64 // Unix nanoseconds; quarantined until expires+channelQuarantine
	num     uint16
}

// reserved reports whether c still holds its number and peer at t: while
// bound and during the quarantine after it.
func (c *channel) reserved(t int64) bool {
	return t < c.expires+int64(channelQuarantine)
}

// BindChannel binds channel number num to peer, or refreshes that binding,
// for Config.ChannelLifetime from now, and installs or refreshes the
// permission for the peer's IP address, as a ChannelBind request does
// (RFC 8656 §12.2). It returns
//   - ErrBadChannelNumber if num is not in 0x4000-0x7FFF, or not in
//     0x4000-0x4FFF with Config.StrictChannelNumbers;
//   - ErrBadPeer if peer has no valid IP address;
//   - ErrChannelInUse if num is bound to another peer, or was within the last
//     five minutes;
//   - ErrPeerBound if peer is bound to another number, or was within the last
//     five minutes;
//   - ErrTooManyChannels if a new binding would exceed Config.MaxChannels;
//   - ErrTooManyPermissions if the peer's permission cannot be installed.
//
// On error nothing changes.
func (a *Allocation) BindChannel(num uint16, peer netip.AddrPort, now time.Time) error {
	cfg := a.config()
	maxNum := MaxLegacyChannel
	if cfg.StrictChannelNumbers {
		maxNum = MaxChannel
	}
	if num < MinChannel || num > maxNum {
		return ErrBadChannelNumber
	}
	if !peer.Addr().IsValid() {
		return ErrBadPeer
	}
	peer = netip.AddrPortFrom(canonAddr(peer.Addr()), peer.Port())
	t := now.UnixNano()
	exp := now.Add(cfg.ChannelLifetime).UnixNano()
	slot := -1
	for i := range a.chans {
		c := &a.chans[i]
		if !c.reserved(t) {
			if slot < 0 {
				slot = i
			}
			continue
		}
		switch {
		case c.num == num && c.peer == peer:
			if err := a.AddPermission(peer.Addr(), now); err != nil {
				return err
			}
			c.expires = exp
			return nil
		case c.num == num:
			return ErrChannelInUse
		case c.peer == peer:
			return ErrPeerBound
		}
	}
	if slot < 0 && len(a.chans) >= cfg.MaxChannels {
		return ErrTooManyChannels
	}
	if err := a.AddPermission(peer.Addr(), now); err != nil {
		return err
	}
	c := channel{peer: peer, expires: exp, num: num}
	if slot >= 0 {
		a.chans[slot] = c
	} else {
		a.chans = append(a.chans, c)
	}
	return nil
}

// ChannelPeer returns the peer bound to channel number num, if the binding
// has not expired. It does not allocate and is meant to be called per
// packet.
func (a *Allocation) ChannelPeer(num uint16, now time.Time) (netip.AddrPort, bool) {
	t := now.UnixNano()
	for i := range a.chans {
		if c := &a.chans[i]; c.num == num && t < c.expires {
			return c.peer, true
		}
	}
	return netip.AddrPort{}, false
}

// PeerChannel returns the channel number bound to peer, if the binding has
// not expired. It does not allocate and is meant to be called per packet.
func (a *Allocation) PeerChannel(peer netip.AddrPort, now time.Time) (uint16, bool) {
	peer = netip.AddrPortFrom(canonAddr(peer.Addr()), peer.Port())
	t := now.UnixNano()
	for i := range a.chans {
		if c := &a.chans[i]; c.peer == peer && t < c.expires {
			return c.num, true
		}
	}
	return 0, false
}

// pruneChannels drops the bindings whose quarantine has ended at t,
// returning nil when none remain so the backing array can be freed.
func pruneChannels(cs []channel, t int64) []channel {
	cs = slices.DeleteFunc(cs, func(c channel) bool { return !c.reserved(t) })
	if len(cs) == 0 {
		return nil
	}
	return cs
}

// Channels calls fn with the number, peer and expiry of each channel bound
// at now (not those in their quarantine), for reports (not per packet).
func (a *Allocation) Channels(now time.Time, fn func(num uint16, peer netip.AddrPort, expires time.Time)) {
	t := now.UnixNano()
	for _, c := range a.chans {
		if t < c.expires {
			fn(c.num, c.peer, time.Unix(0, c.expires))
		}
	}
}
