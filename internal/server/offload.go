package server

import (
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/offload"
)

// Offload is the kernel fast path for channel data (internal/offload's
// Loader; docs/offload.md). The workers drive it from their control path
// only, never per packet: they install a channel when a ChannelBind
// succeeds, install it again when its permission or binding is refreshed,
// read its counters back and remove it when the binding, the permission
// or the allocation ends. Its methods must be safe for concurrent use.
type Offload interface {
	// Install adds or refreshes a channel (keeping its counters on a
	// refresh).
	Install(offload.Channel) error
	// Remove takes a channel away.
	Remove(offload.Channel) error
	// Counters returns what the kernel relayed for a channel since it was
	// installed, exactly (read when a channel is removed).
	Counters(offload.Channel) (offload.Counters, error)
	// Snapshot returns the latest snapshot of every channel's counters
	// (offload.Snapshot), which the workers read, with no system call,
	// on the first tick that finds a new one.
	Snapshot() offload.Snapshot
	// Source returns the address the kernel sends from to a client when
	// the socket (a wildcard listener's) leaves the choice to it: the
	// listener address the channels of that client are installed with.
	Source(client netip.Addr) (netip.Addr, error)
}

// offloads are the channels a worker has in the kernel, by session.
type offloads struct {
	by map[*session][]offloaded
	// due is when the first of them ends, or earlier: the tick looks for
	// ended channels only from then (zero: none in the kernel).
	due time.Time
	// seq is the Seq of the snapshot whose counters the worker read last.
	seq uint64
}

// offloaded is one channel in the kernel and what of its counters the
// session's counts already hold.
type offloaded struct {
	ch   offload.Channel
	seen offload.Counters
	// end is when the channel's binding or its peer's permission ends,
	// whichever is first, as of its last install: the tick removes it
	// then. Every request that extends either installs it again.
	end time.Time
	// after is the Seq of the snapshot current when the channel was
	// installed first: snapshots from after+2 on hold its counters (and
	// not those of an entry it replaced).
	after uint64
}

// offloadable reports whether the channel of s to peer may be relayed in
// the kernel: a UDP client in RFC TURN, the client, the listener, the peer
// and so the relayed address all of one family (IPv4 or IPv6: mixed
// families stay in user space), no IPv6 link-local address (the route to
// it depends on a zone the program does not know), no bandwidth cap for
// the allocation's tenant (the program does not shape), and a peer that is
// not another allocation of the edge (they reach each other in user
// space). A wildcard listener's address is settled by offloadListener.
func (w *worker) offloadable(s *session, peer netip.AddrPort) bool {
	ft := s.alloc.FiveTuple
	fam := familyOf(peer.Addr())
	return w.env.offload != nil && ft.Proto == allocation.UDP && s.ms == nil && s.tcp == nil && !w.env.bw.capped(s.owner) &&
		familyOf(ft.Client.Addr()) == fam && familyOf(ft.Server.Addr()) == fam &&
		offloadAddr(ft.Client.Addr()) && (ft.Server.Addr().IsUnspecified() || offloadAddr(ft.Server.Addr())) &&
		offloadAddr(peer.Addr()) && s.relays[fam].sock != nil && !w.hairpin(peer)
}

// offloadAddr reports whether the program can match and route a: a
// concrete address without a zone, and not IPv6 link-local.
func offloadAddr(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsUnspecified() && a.Zone() == "" && (a.Is4() || !a.IsLinkLocalUnicast())
}

// hairpin reports whether peer is a relayed address of the edge: a relay
// port on its relay address of peer's family or on one of its own
// addresses.
func (w *worker) hairpin(peer netip.AddrPort) bool {
	rule := w.env.peers.Load()
	a, p := peer.Addr(), peer.Port()
	return (a == w.env.families[familyOf(a)].addr || containsAddr(rule.self, a)) && p >= rule.relayMin && p <= rule.relayMax
}

// offloadEnd is when the channel num of s to peer stops relaying: when
// its binding or its peer's permission ends, whichever comes first; the
// zero time when either has ended at now. It walks the allocation's
// channels and permissions: called on installs only, never by the tick.
func offloadEnd(s *session, num uint16, peer netip.AddrPort, now time.Time) time.Time {
	var end time.Time
	s.alloc.Channels(now, func(n uint16, p netip.AddrPort, expires time.Time) {
		if n == num && p == peer {
			end = expires
		}
	})
	if end.IsZero() {
		return end
	}
	var perm time.Time
	s.alloc.Permissions(now, func(ip netip.Addr, expires time.Time) {
		if ip == peer.Addr() {
			perm = expires
		}
	})
	if perm.Before(end) {
		end = perm
	}
	return end
}

// offloadBind installs or refreshes, after a successful ChannelBind at
// now, the channel num of s to peer when it may be offloaded, first taking
// away a channel of s that held num or peer before (a rebinding). The
// ChannelBind refreshed the permission of peer's IP address too: the
// other channels to that address are installed again.
func (w *worker) offloadBind(s *session, num uint16, peer netip.AddrPort, now time.Time) {
	if w.env.offload == nil {
		return
	}
	w.offloadDrop(s, func(e *offloaded) bool { return (e.ch.Number == num) != (e.ch.Peer == peer) })
	found := false
	w.offloadReinstall(s, now, func(e *offloaded) bool {
		found = found || e.ch.Number == num
		return e.ch.Peer.Addr() == peer.Addr()
	})
	if found || !w.offloadable(s, peer) {
		return
	}
	listener, ok := w.offloadListener(s)
	if !ok {
		return
	}
	fam := familyOf(peer.Addr())
	e := offloaded{ch: offload.Channel{
		Client: s.alloc.FiveTuple.Client, Listener: listener, Number: num,
		Relayed: s.relays[fam].addr, Peer: peer,
	}}
	if w.offloadInstall(s, &e, now) {
		e.after = w.env.offload.Snapshot().Seq()
		if w.off.by == nil {
			w.off.by = make(map[*session][]offloaded)
		}
		w.off.by[s] = append(w.off.by[s], e)
	}
}

// offloadListener returns the listener address the channels of s are
// installed with: the listener's own, or for a wildcard listener the
// address the kernel answers the client from (Offload.Source), which is
// where user space's answers to it come from too, so the address the
// client sends to. ok is false when it cannot be known: the channel stays
// in user space.
func (w *worker) offloadListener(s *session) (listener netip.AddrPort, ok bool) {
	ft := s.alloc.FiveTuple
	if !ft.Server.Addr().IsUnspecified() {
		return ft.Server, true
	}
	src, err := w.env.offload.Source(ft.Client.Addr())
	if err != nil || familyOf(src) != familyOf(ft.Client.Addr()) || !offloadAddr(src) {
		w.env.log.Debug("channel left to user space: no source address towards the client", "client", ft.Client,
			"source", src, "err", err)
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(src.Unmap(), ft.Server.Port()), true
}

// offloadInstall installs e until the end its binding and permission have
// at now, recording that end, and reports whether it is in the kernel.
func (w *worker) offloadInstall(s *session, e *offloaded, now time.Time) bool {
	e.end = offloadEnd(s, e.ch.Number, e.ch.Peer, now)
	e.ch.Lifetime = e.end.Sub(now)
	if e.ch.Lifetime <= 0 {
		return false
	}
	if err := w.env.offload.Install(e.ch); err != nil {
		w.env.log.Debug("channel left to user space: offload refused it", "client", e.ch.Client,
			"channel", e.ch.Number, "peer", e.ch.Peer, "err", err)
		return false
	}
	if w.off.due.IsZero() || e.end.Before(w.off.due) {
		w.off.due = e.end
	}
	return true
}

// offloadPermitted installs again, after a CreatePermission at now for
// ips, the channels of s to those addresses, so that the kernel enforces
// their permissions' new expiry; the others keep theirs.
func (w *worker) offloadPermitted(s *session, ips []netip.Addr, now time.Time) {
	w.offloadReinstall(s, now, func(e *offloaded) bool {
		for _, ip := range ips {
			if ip.Unmap() == e.ch.Peer.Addr() {
				return true
			}
		}
		return false
	})
}

// offloadReinstall installs again, at now, the channels of s that match;
// one the kernel refuses this time leaves it (its counters read first) for
// user space, rather than relay until its old expiry and drop after it.
func (w *worker) offloadReinstall(s *session, now time.Time, match func(*offloaded) bool) {
	w.offloadDrop(s, func(e *offloaded) bool { return match(e) && !w.offloadInstall(s, e, now) })
}

// offloadRelayClosed takes away the channels of s relayed from addr,
// whose socket is closing (the allocation ends, or gives up a family):
// their counters are read into the session's first, so that its record
// holds them.
func (w *worker) offloadRelayClosed(s *session, addr netip.AddrPort) {
	w.offloadDrop(s, func(e *offloaded) bool { return e.ch.Relayed == addr })
}

// offloadDenied takes away the channels whose peer denied reports (a
// reloaded peer policy, or a new own address); their packets go back to
// user space, which decides.
func (w *worker) offloadDenied(denied peerDenied) {
	for s := range w.off.by {
		w.offloadDrop(s, func(e *offloaded) bool { return denied(w, s, e.ch.Peer) })
	}
}

// offloadTick takes away, at now, the channels whose binding or
// permission has ended (the kernel already drops their packets), looking
// only once the first of them is due, and reads every channel's counters
// from the offload's snapshot when it is a new one.
func (w *worker) offloadTick(now time.Time) {
	if w.env.offload == nil {
		return
	}
	snap := w.env.offload.Snapshot()
	fresh := snap.Seq() != w.off.seq
	due := !w.off.due.IsZero() && !now.Before(w.off.due)
	if !fresh && !due {
		return
	}
	w.off.seq = snap.Seq()
	var next time.Time
	for s := range w.off.by {
		if due {
			w.offloadDrop(s, func(e *offloaded) bool { return !now.Before(e.end) })
		}
		entries := w.off.by[s]
		for i := range entries {
			e := &entries[i]
			if fresh && snap.Seq() >= e.after+2 {
				if c, ok := snap.Counters(e.ch); ok {
					w.offloadCount(s, e, c)
				}
			}
			if next.IsZero() || e.end.Before(next) {
				next = e.end
			}
		}
	}
	w.off.due = next
}

// offloadDrop removes the channels of s that match, reading their
// counters first.
func (w *worker) offloadDrop(s *session, match func(*offloaded) bool) {
	entries := w.off.by[s]
	kept := entries[:0]
	for i := range entries {
		if match(&entries[i]) {
			w.offloadRemove(s, &entries[i])
			continue
		}
		kept = append(kept, entries[i])
	}
	w.setOffloaded(s, kept)
}

// offloadRemove reads the counters of e into s, exactly, and takes e out
// of the kernel.
func (w *worker) offloadRemove(s *session, e *offloaded) {
	if c, err := w.env.offload.Counters(e.ch); err == nil {
		w.offloadCount(s, e, c)
	}
	if err := w.env.offload.Remove(e.ch); err != nil {
		w.env.log.Debug("offloaded channel not removed", "client", e.ch.Client, "channel", e.ch.Number, "err", err)
	}
}

// offloadCount adds what the kernel relayed for e, c, beyond what was
// counted before, to the counts of s and of the worker, published at the
// end of the round.
func (w *worker) offloadCount(s *session, e *offloaded, c offload.Counters) {
	var up, down offload.Flow
	up, e.seen.ToPeer = flowSince(c.ToPeer, e.seen.ToPeer)
	down, e.seen.ToClient = flowSince(c.ToClient, e.seen.ToClient)
	if up.Packets == 0 && down.Packets == 0 {
		return
	}
	w.p.toPeerPackets += up.Packets
	w.p.toPeerBytes += up.Bytes
	w.p.toClientPackets += down.Packets
	w.p.toClientBytes += down.Bytes
	s.pend.toPeerPackets += up.Packets
	s.pend.toPeerBytes += up.Bytes
	s.pend.toClientPackets += down.Packets
	s.pend.toClientBytes += down.Bytes
	w.touch(s)
}

// flowSince returns what flow counted beyond seen, and what is seen then.
// A flow below seen (a refresh's replacement of the entry lost what the
// kernel counted between the loader's read and its write, a few
// microseconds) counts nothing until it passes seen again, so that nothing
// is counted twice.
func flowSince(flow, seen offload.Flow) (offload.Flow, offload.Flow) {
	if flow.Packets < seen.Packets || flow.Bytes < seen.Bytes {
		return offload.Flow{}, seen
	}
	return offload.Flow{Packets: flow.Packets - seen.Packets, Bytes: flow.Bytes - seen.Bytes}, flow
}

// setOffloaded records the channels of s in the kernel, forgetting s
// when there are none.
func (w *worker) setOffloaded(s *session, entries []offloaded) {
	if len(entries) == 0 {
		delete(w.off.by, s)
		return
	}
	if w.off.by == nil {
		w.off.by = make(map[*session][]offloaded)
	}
	w.off.by[s] = entries
}
