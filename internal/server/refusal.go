package server

import (
	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
)

// refusalReasons are the reason phrases of the causes whose answer does
// not use its code's standard one. While draining without a sibling of
// the client's family, an Allocate gets 508 "draining": RFC 8656 §7.2 has
// no 503, and 508 Insufficient Capacity is what a client already handles.
var refusalReasons = [stats.NumRefusalCauses][]byte{
	stats.RefusedDraining: []byte("draining"),
}

// refuse counts a refusal for cause and answers r with code and extra
// attributes.
func (w *worker) refuse(r *request, cause stats.RefusalCause, code stun.ErrorCode, extra ...stun.Setter) {
	w.c.refusals[cause].Add(1)
	if reason := refusalReasons[cause]; reason != nil {
		w.begin(r, stun.ClassErrorResponse)
		_ = (&stun.ErrorCodeAttribute{Code: code, Reason: reason}).AddTo(r.resp)
		for _, a := range extra {
			_ = a.AddTo(r.resp)
		}
		w.finish(r)
		return
	}
	w.fail(r, code, extra...)
}
