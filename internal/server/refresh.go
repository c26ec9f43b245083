package server

import (
	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// refresh implements RFC 8656 §7.3 "Receiving a Refresh Request".
func (w *worker) refresh(r *request) {
	s := w.session(r)
	if s == nil {
		return
	}
	// RFC 8656 §7.3: a REQUESTED-ADDRESS-FAMILY that does not match the
	// allocation's family gets 443.
	if r.m.Contains(stun.AttrRequestedAddressFamily) {
		var fam stunproto.RequestedAddressFamily
		if err := fam.GetFrom(r.m); err != nil {
			w.fail(r, stun.CodeBadRequest)
			return
		}
		if (uint8(fam) == stunproto.FamilyIPv4) != s.alloc.Relayed.Addr().Is4() {
			w.fail(r, stun.CodePeerAddrFamilyMismatch)
			return
		}
	}
	var lifetime stunproto.Lifetime
	present := lifetime.GetFrom(r.m) == nil
	// "If the requested lifetime is zero, then the server MUST delete the
	// allocation" and answer with LIFETIME 0.
	if present && lifetime.Duration == 0 {
		w.closeSession(s, "refresh 0")
		w.succeed(r, stunproto.Lifetime{})
		return
	}
	d := w.env.alloc.Lifetime(lifetime.Duration, present)
	s.alloc.Refresh(d, r.now)
	w.succeed(r, stunproto.Lifetime{Duration: d})
}
