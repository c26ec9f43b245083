package server

import (
	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// refresh implements RFC 8656 §8.2 "Receiving a Refresh Request".
func (w *worker) refresh(r *request) {
	s := w.session(r)
	if s == nil {
		return
	}
	// "If the server receives a Refresh Request with a
	// REQUESTED-ADDRESS-FAMILY attribute and the attribute value does not
	// match the address family of the allocation, the server MUST reply
	// with a 443". A dual allocation matches either family.
	fam := -1
	if r.m.Contains(stun.AttrRequestedAddressFamily) {
		var raf stunproto.RequestedAddressFamily
		if err := raf.GetFrom(r.m); err != nil {
			w.fail(r, stun.CodeBadRequest)
			return
		}
		fam = familyIndex(uint8(raf))
		if s.relays[fam].sock == nil {
			w.fail(r, stun.CodePeerAddrFamilyMismatch)
			return
		}
	}
	var lifetime stunproto.Lifetime
	present := lifetime.GetFrom(r.m) == nil
	// "If the requested lifetime is zero, then the server MUST delete the
	// allocation" and answer with LIFETIME 0. For a dual allocation with
	// REQUESTED-ADDRESS-FAMILY, only that family's relayed address goes
	// (§8.1: "This process can also be used to delete an allocation of a
	// specific address type").
	if present && lifetime.Duration == 0 {
		if fam >= 0 && s.relays[famV4].sock != nil && s.relays[famV6].sock != nil {
			w.dropFamily(s, fam)
		} else {
			w.closeSession(s, stats.EndRefreshZero)
		}
		w.succeed(r, stunproto.Lifetime{})
		return
	}
	// Both relayed addresses of a dual allocation share one lifetime, so
	// refreshing either family refreshes both.
	// Not beyond the allocation's maximum age: the expiry tick ends it
	// there, and a Refresh after that finds no allocation (437).
	d := s.bounded(w.env.alloc.Lifetime(lifetime.Duration, present), r.now)
	s.alloc.Refresh(d, r.now)
	w.succeed(r, stunproto.Lifetime{Duration: d})
}
