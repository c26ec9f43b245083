// Package allocation holds the state of TURN allocations (RFC 8656): the
// allocation table keyed by 5-tuple, lifetimes, permissions, channel
// bindings, relay port selection, port reservations (EVEN-PORT and
// RESERVATION-TOKEN) and per-user quotas.
//
// It is pure state: it opens no sockets and reads no clock. Every
// time-dependent method takes the current time, which the caller reads from
// an injected clock.Clock.
//
// Concurrency: a Table and its Allocations belong to one worker goroutine
// and are not safe for concurrent use; their per-packet methods are lock-free
// and do not allocate. Only Allocation.Counters may be read from other
// goroutines. PortPool, Quota and Reservations are shared control-path state
// and are safe for concurrent use.
package allocation
