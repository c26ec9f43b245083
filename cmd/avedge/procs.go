package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// spareProcs gives the Go scheduler one P per CPU on top of one per packet
// worker (workers 0 means one per CPU), unless GOMAXPROCS is set in the
// environment. A packet worker spends much of its time in epoll_wait; when
// every P belongs to a worker in a system call, the runtime's sysmon takes
// the P away and starts another thread each time (futex, nanosleep), which
// cost a quarter of the server's CPU per relayed packet under 500 audio calls
// on 2 cores (11.2–11.8 µs with GOMAXPROCS=2 against 8.9–9.0 µs with 4; see
// docs/benchmarks.md). Spare Ps let a worker block without being preempted.
func spareProcs(workers int) (int, bool) {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0), false
	}
	cpus := runtime.NumCPU()
	if workers <= 0 {
		workers = cpus
	}
	want := cpus + workers
	if want <= runtime.GOMAXPROCS(0) {
		return runtime.GOMAXPROCS(0), false
	}
	runtime.GOMAXPROCS(want)
	return want, true
}

// edgeGOGC is the garbage collector target of `serve` unless GOGC is set in
// the environment. An edge's heap is mostly long-lived allocation state, and
// the forwarding path allocates nothing, so garbage comes only from the
// control path: a lower target trims the heap's headroom over that state.
// Measured at 10,000 idle allocations on loopback: 2.27 KiB per allocation
// with GOGC=100 against 1.94 KiB with 50, for 5–7% fewer allocations/s under
// churn (still above twice coturn's).
const edgeGOGC = 50

// tuneGC applies edgeGOGC unless GOGC is set; it reports whether it did.
func tuneGC() bool {
	if os.Getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(edgeGOGC)
	return true
}
