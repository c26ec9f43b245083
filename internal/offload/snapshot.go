package offload

// Snapshot holds the counters of every channel installed in the kernel as
// one reader found them at one time (Loader.Snapshot): reading a channel's
// counters from it costs no system call and takes no lock, so the workers
// of the relay read theirs every second without contending; Counters
// stays the exact read, for a channel that ends.
type Snapshot interface {
	// Seq numbers the snapshots of a Loader from 1 (0: none read yet).
	// They are read one after the other, each after the previous one was
	// published, so the one numbered n+2 was read entirely after a call to
	// Snapshot that returned the one numbered n: it holds the counters of
	// a channel installed before that call, not those of an entry it
	// replaced.
	Seq() uint64
	// Counters returns what the kernel had relayed for c when the
	// snapshot was read, and false when c was not installed (both
	// directions) then.
	Counters(c Channel) (Counters, bool)
}
