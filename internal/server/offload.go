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
	// installed.
	Counters(offload.Channel) (offload.Counters, error)
}

// offloadReadEvery is how often a worker reads the counters of its
// offloaded channels back (two map lookups per channel): the metrics, the
// capacity limit and the sessions listing lag the kernel by at most this
// much; the record of an allocation that ends is exact (read at the end).
const offloadReadEvery = time.Second

// offloads are the channels a worker has in the kernel, by session.
type offloads struct {
	by       map[*session][]offloaded
	nextRead time.Time
}

// offloaded is one channel in the kernel and what of its counters the
// session's counts already hold.
type offloaded struct {
	ch   offload.Channel
	seen offload.Counters
}

// offloadable reports whether the channel of s to peer may be relayed in
// the kernel: a UDP client in RFC TURN, a listener bound to a concrete
// IPv4 address (the program must know the address the client sends to),
// an IPv4 client, relayed address and peer, no bandwidth cap (the program
// does not shape), and a peer that is not another allocation of the edge
// (they reach each other in user space).
func (w *worker) offloadable(s *session, peer netip.AddrPort) bool {
	ft := s.alloc.FiveTuple
	return w.env.offload != nil && ft.Proto == allocation.UDP && s.ms == nil && s.tcp == nil && !w.env.bw.on &&
		ft.Client.Addr().Is4() && ft.Server.Addr().Is4() && !ft.Server.Addr().IsUnspecified() &&
		peer.Addr().Is4() && s.relays[famV4].sock != nil && !w.hairpin(peer)
}

// hairpin reports whether peer is a relayed address of the edge: a relay
// port on its relay address or on one of its own addresses.
func (w *worker) hairpin(peer netip.AddrPort) bool {
	rule := w.env.peers.Load()
	a, p := peer.Addr(), peer.Port()
	return (a == w.env.families[famV4].addr || containsAddr(rule.self, a)) && p >= rule.relayMin && p <= rule.relayMax
}

// offloadLifetime is how long from now the channel num of s to peer may
// relay: until its binding or its peer's permission ends, whichever comes
// first; 0 or less when either has ended.
func offloadLifetime(s *session, num uint16, peer netip.AddrPort, now time.Time) time.Duration {
	var end time.Time
	s.alloc.Channels(now, func(n uint16, p netip.AddrPort, expires time.Time) {
		if n == num && p == peer {
			end = expires
		}
	})
	if end.IsZero() {
		return 0
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
	return end.Sub(now)
}

// offloadBind installs or refreshes, after a successful ChannelBind at
// now, the channel num of s to peer when it may be offloaded, first taking
// away a channel of s that held num or peer before (a rebinding).
func (w *worker) offloadBind(s *session, num uint16, peer netip.AddrPort, now time.Time) {
	if w.env.offload == nil {
		return
	}
	entries := w.off.by[s]
	for i := 0; i < len(entries); {
		if e := &entries[i]; e.ch.Number != num && e.ch.Peer != peer || e.ch.Number == num && e.ch.Peer == peer {
			i++
			continue
		}
		w.offloadRemove(s, &entries[i])
		entries = append(entries[:i], entries[i+1:]...)
	}
	w.setOffloaded(s, entries)
	if !w.offloadable(s, peer) {
		return
	}
	ch := offload.Channel{
		Client: s.alloc.FiveTuple.Client, Listener: s.alloc.FiveTuple.Server, Number: num,
		Relayed: s.relays[famV4].addr, Peer: peer,
	}
	for i := range entries {
		if entries[i].ch.Number == num {
			w.offloadInstall(s, &entries[i], now)
			return
		}
	}
	e := offloaded{ch: ch}
	if w.offloadInstall(s, &e, now) {
		w.setOffloaded(s, append(entries, e))
	}
}

// offloadInstall installs e, with the lifetime its binding and permission
// have at now, and reports whether it is in the kernel.
func (w *worker) offloadInstall(s *session, e *offloaded, now time.Time) bool {
	e.ch.Lifetime = offloadLifetime(s, e.ch.Number, e.ch.Peer, now)
	if err := w.env.offload.Install(e.ch); err != nil {
		w.env.log.Debug("channel left to user space: offload refused it", "client", e.ch.Client,
			"channel", e.ch.Number, "peer", e.ch.Peer, "err", err)
		return false
	}
	return true
}

// offloadRefresh installs the channels of s again after its permissions
// were refreshed at now (CreatePermission), so that the kernel enforces
// their new expiry.
func (w *worker) offloadRefresh(s *session, now time.Time) {
	entries := w.off.by[s]
	for i := range entries {
		w.offloadInstall(s, &entries[i], now)
	}
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
// permission has ended (the kernel already drops their packets) and,
// every offloadReadEvery, reads every channel's counters back.
func (w *worker) offloadTick(now time.Time) {
	read := !now.Before(w.off.nextRead)
	if read {
		w.off.nextRead = now.Add(offloadReadEvery)
	}
	for s := range w.off.by {
		w.offloadDrop(s, func(e *offloaded) bool {
			return offloadLifetime(s, e.ch.Number, e.ch.Peer, now) <= 0
		})
		if read {
			for i, e := range w.off.by[s] {
				w.offloadRead(s, &e)
				w.off.by[s][i] = e
			}
		}
	}
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

// offloadRemove reads the counters of e into s and takes e out of the
// kernel.
func (w *worker) offloadRemove(s *session, e *offloaded) {
	w.offloadRead(s, e)
	if err := w.env.offload.Remove(e.ch); err != nil {
		w.env.log.Debug("offloaded channel not removed", "client", e.ch.Client, "channel", e.ch.Number, "err", err)
	}
}

// offloadRead adds what the kernel relayed for e since the last read to
// the counts of s and of the worker, published at the end of the round.
func (w *worker) offloadRead(s *session, e *offloaded) {
	c, err := w.env.offload.Counters(e.ch)
	if err != nil {
		return
	}
	up := flowSince(c.ToPeer, e.seen.ToPeer)
	down := flowSince(c.ToClient, e.seen.ToClient)
	e.seen = c
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

// flowSince is what flow counted beyond seen: all of it when it counts
// less (its entry was installed anew).
func flowSince(flow, seen offload.Flow) offload.Flow {
	if flow.Packets < seen.Packets || flow.Bytes < seen.Bytes {
		return flow
	}
	return offload.Flow{Packets: flow.Packets - seen.Packets, Bytes: flow.Bytes - seen.Bytes}
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
