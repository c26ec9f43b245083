package server

import (
	"time"

	"github.com/avedge/avedge/internal/allocation"
)

// interimScan is how often a worker looks for interim records due: their
// times are accurate to it.
const interimScan = time.Second

// reportInterim hands OnInterim a record of each allocation whose next
// interim record is due at now: one every Options.InterimRecords from its
// start. A worker that fell behind (a stopped clock, a long stall) reports
// once and starts counting again from now.
func (w *worker) reportInterim(now time.Time) {
	every := w.env.interim
	if every <= 0 || now.Before(w.nextInterim) {
		return
	}
	w.nextInterim = now.Add(interimScan)
	t := now.UnixNano()
	w.table.Range(func(a *allocation.Allocation) bool {
		s := a.Relay.(*session)
		due := s.reported + int64(every)
		if t < due {
			return true
		}
		rec := w.record(s, now)
		rec.Interim = true
		w.env.onInterim(rec)
		s.reported = due
		if t-due >= int64(every) {
			s.reported = t
		}
		return true
	})
}
