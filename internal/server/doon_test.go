package server

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/datapath"
)

// busyWorker is a worker whose queue stays full: it counts the tries.
type busyWorker struct{ tries atomic.Int64 }

func (w *busyWorker) Do(func()) error {
	w.tries.Add(1)
	return datapath.ErrBusy
}

// TestDoOnBacksOff: a reader that finds its worker's queue full retries
// with growing pauses, not every millisecond: over 400 ms it tries about
// a dozen times (1+2+4+8+16+32 ms, then every 50 ms), where a 1 ms poll
// tries hundreds of times; cancel ends the wait.
func TestDoOnBacksOff(t *testing.T) {
	w := new(busyWorker)
	cancel := make(chan struct{})
	time.AfterFunc(400*time.Millisecond, func() { close(cancel) })
	if doOn(w, func() {}, cancel) {
		t.Fatal("queued on a full worker")
	}
	// 6 tries in the first 63 ms, then one per 50 ms: at most 14 in
	// 400 ms, since timers never fire early.
	if n := w.tries.Load(); n > 14 {
		t.Fatalf("%d tries in 400 ms, want at most 14", n)
	}
}
