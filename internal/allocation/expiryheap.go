package allocation

// expiryHeap is a min-heap of allocations ordered by expiry, maintained with
// container/heap. Each allocation records its index so Refresh and Delete
// can fix or remove it in O(log n).
type expiryHeap []*Allocation

// Len implements heap.Interface.
func (h expiryHeap) Len() int { return len(h) }

// Less implements heap.Interface.
func (h expiryHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }

// Swap implements heap.Interface.
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

// Push implements heap.Interface.
func (h *expiryHeap) Push(x any) {
	a := x.(*Allocation)
	a.idx = len(*h)
	*h = append(*h, a)
}

// Pop implements heap.Interface.
func (h *expiryHeap) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	a.idx = -1
	return a
}
