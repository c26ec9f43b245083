package allocation

import (
	"container/heap"
	"fmt"
	"time"
)

// pruneBatch is how many allocations Table.Expire prunes per call. At one
// call every 250 ms, a worker with 100,000 allocations prunes each of them
// about every 100 s, for a few microseconds per call.
const pruneBatch = 256

// Table holds the allocations of one worker, keyed by 5-tuple, with their
// expiry order. It is owned by one goroutine and is NOT safe for concurrent
// use; Get does not allocate and takes no lock.
type Table struct {
	cfg     Config
	byTuple map[FiveTuple]*Allocation
	heap    expiryHeap
	sweep   int // next heap position Expire prunes
}

// NewTable returns an empty table whose allocations follow cfg; zero or
// negative fields of cfg take their DefaultConfig values.
func NewTable(cfg Config) *Table {
	return &Table{cfg: cfg.WithDefaults(), byTuple: make(map[FiveTuple]*Allocation)}
}

// Get returns the allocation of ft, or nil. The allocation may have expired
// since the last Expire; callers check Allocation.Expired where it matters.
// It does not allocate.
func (t *Table) Get(ft FiveTuple) *Allocation { return t.byTuple[ft] }

// Insert adds a, whose FiveTuple and expiry (see Allocation.Refresh) must be
// set, and makes the table's Config govern it. It returns an error wrapping
// ErrExists if the 5-tuple is in use (RFC 8656 §7.2: 437 Allocation
// Mismatch) or a is already in a table.
func (t *Table) Insert(a *Allocation) error {
	if a.tab != nil {
		return fmt.Errorf("%w: allocation already in a table", ErrExists)
	}
	if _, ok := t.byTuple[a.FiveTuple]; ok {
		return fmt.Errorf("%w: %v", ErrExists, a.FiveTuple)
	}
	a.cfg = &t.cfg
	a.tab = t
	t.byTuple[a.FiveTuple] = a
	heap.Push(&t.heap, a)
	return nil
}

// Delete removes the allocation of ft, if any.
func (t *Table) Delete(ft FiveTuple) {
	a := t.byTuple[ft]
	if a == nil {
		return
	}
	delete(t.byTuple, ft)
	heap.Remove(&t.heap, a.idx)
	a.tab = nil
}

// Len returns the number of allocations in the table.
func (t *Table) Len() int { return len(t.byTuple) }

// Expire removes every allocation expired at now and calls fn (if not nil)
// once for each, after removal, so the server can close its relay socket and
// release its port and quota. It then prunes the permissions and channels of
// a bounded batch of the remaining allocations. When nothing expires it
// costs O(1) plus the batch, so it can run on every tick.
func (t *Table) Expire(now time.Time, fn func(*Allocation)) {
	ns := now.UnixNano()
	for len(t.heap) > 0 && t.heap[0].expires <= ns {
		a := heap.Pop(&t.heap).(*Allocation)
		delete(t.byTuple, a.FiveTuple)
		a.tab = nil
		if fn != nil {
			fn(a)
		}
	}
	for range min(pruneBatch, len(t.heap)) {
		if t.sweep >= len(t.heap) {
			t.sweep = 0
		}
		t.heap[t.sweep].Prune(now)
		t.sweep++
	}
}

// Range calls fn for each allocation, in no particular order, until fn
// returns false. fn may Delete the allocation it is given but must not
// otherwise change the table.
func (t *Table) Range(fn func(*Allocation) bool) {
	for _, a := range t.byTuple {
		if !fn(a) {
			return
		}
	}
}
