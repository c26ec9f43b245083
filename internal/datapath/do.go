package datapath

import "fmt"

// doQueueSize bounds the functions waiting for the worker goroutine.
const doQueueSize = 1024

// Do queues fn to run on the worker goroutine soon, for shutdown and admin
// actions (for example Add or Remove from another goroutine). It never
// blocks: a full queue returns ErrBusy, a closed worker ErrClosed. Functions
// queued before Run starts run once it does.
func (w *Worker) Do(fn func()) error {
	if fn == nil {
		return fmt.Errorf("%w: nil func", ErrBadOptions)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.doq <- fn:
	default:
		return ErrBusy
	}
	w.signalLocked()
	return nil
}

// runQueued runs the functions queued so far, but not those they queue in
// turn, so that a function re-queuing itself cannot stall the loop.
func (w *Worker) runQueued() {
	for range len(w.doq) {
		(<-w.doq)()
	}
}

// signal wakes the loop; used when ctx ends.
func (w *Worker) signal() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.signalLocked()
}

// signalLocked wakes the loop unless what the worker owns is already
// released. mu must be held.
func (w *Worker) signalLocked() {
	if w.closed && !w.running {
		return
	}
	w.wakeUp()
}
