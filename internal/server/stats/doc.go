// Package stats holds the value types through which the relay reports
// itself: the snapshot of its counters (Stats and its parts), the labels of
// its metrics (AllocationKind with its Dialect, Transport, RelayProtocol and
// Family axes; EndReason, AuthResult, RefusalCause, DropReason) and the
// Record of an ended allocation.
//
// It has no behaviour and imports nothing of the relay: internal/server
// fills these values, and internal/metrics and internal/records read them
// without depending on the relay itself.
package stats
