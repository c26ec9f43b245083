package allocation

import (
	"container/heap"
	"net/netip"
	"slices"
	"time"
)

// Allocation is the state of one TURN allocation (RFC 8656 §2.2). The
// exported fields are set by the server when it creates the allocation and
// only read afterwards; the rest is reached through methods, all of which
// take the current time.
//
// An Allocation is owned by the goroutine that owns its Table and is not
// safe for concurrent use, except for Counters.
type Allocation struct {
	// The fields read per packet and by Table.Expire come first: they
	// fill the first 64-byte cache line of the object.
	perms   []permission // lazily allocated, at most cfg.MaxPermissions
	chans   []channel    // lazily allocated, at most cfg.MaxChannels
	expires int64        // Unix nanoseconds
	idx     int          // index in tab.heap while tab != nil

	// FiveTuple identifies the allocation.
	FiveTuple FiveTuple
	// Relayed is the relayed transport address given to the client: IPv4
	// unless the client asked for IPv6 with REQUESTED-ADDRESS-FAMILY or a
	// reservation it claimed is IPv6 (RFC 8656 §7.2).
	Relayed netip.AddrPort
	// Additional is the second relayed transport address of a dual
	// allocation (RFC 8656 §7.2 step 9: ADDITIONAL-ADDRESS-FAMILY), of the
	// other family than Relayed, or the zero AddrPort.
	Additional netip.AddrPort
	// Username is the authenticated user that created the allocation.
	Username string
	// TxID is the transaction ID of the Allocate request that created the
	// allocation, so a retransmitted Allocate can be answered with the same
	// success response (RFC 8656 §7.2).
	TxID [12]byte
	// Relay is an opaque handle the server attaches, such as its relay
	// socket.
	Relay any
	// Counters count the relayed traffic.
	Counters Counters

	cfg *Config // set by Table.Insert; nil means defaultConfig
	tab *Table  // the table holding the allocation, or nil
}

// config returns the configuration governing a.
func (a *Allocation) config() *Config {
	if a.cfg == nil {
		return &defaultConfig
	}
	return a.cfg
}

// Expires returns the time at which the allocation expires.
func (a *Allocation) Expires() time.Time { return time.Unix(0, a.expires) }

// Refresh sets the allocation to expire lifetime after now (RFC 8656 §7.3).
// Call it with Config.Lifetime's result before Table.Insert, and on every
// successful Refresh request; a lifetime of 0 makes the allocation expire at
// once.
func (a *Allocation) Refresh(lifetime time.Duration, now time.Time) {
	a.expires = now.Add(lifetime).UnixNano()
	if a.tab != nil {
		heap.Fix(&a.tab.heap, a.idx)
	}
}

// Expired reports whether the allocation has expired at now.
func (a *Allocation) Expired(now time.Time) bool { return now.UnixNano() >= a.expires }

// Prune drops expired permissions and channel bindings whose 5-minute
// quarantine has ended, releasing their memory when none remain. Table.Expire
// prunes allocations gradually; calling Prune is never required for
// correctness, since expired entries are ignored and their slots reused.
func (a *Allocation) Prune(now time.Time) {
	t := now.UnixNano()
	if len(a.perms) > 0 {
		a.perms = prunePermissions(a.perms, t)
	}
	if len(a.chans) > 0 {
		a.chans = pruneChannels(a.chans, t)
	}
}

// ForgetFamily drops every permission and channel binding, quarantined ones
// included, whose peer is an IPv4 address (v4) or an IPv6 one (!v4), as when
// the relayed address of that family is deleted from a dual allocation. RFC
// 8656 §8.1: "Deleting a single allocation destroys any permissions or
// channels associated with that particular allocation; it MUST NOT affect any
// permissions or channels associated with allocations for the other address
// family."
func (a *Allocation) ForgetFamily(v4 bool) {
	a.perms = slices.DeleteFunc(a.perms, func(p permission) bool { return p.ip.Is4() == v4 })
	a.chans = slices.DeleteFunc(a.chans, func(c channel) bool { return c.peer.Addr().Is4() == v4 })
	if len(a.perms) == 0 {
		a.perms = nil
	}
	if len(a.chans) == 0 {
		a.chans = nil
	}
}

// canonAddr returns ip unmapped and without zone, the form in which
// permissions and channel peers are stored and compared.
func canonAddr(ip netip.Addr) netip.Addr { return ip.Unmap().WithZone("") }
