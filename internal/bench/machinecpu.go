package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// MachineCPU is what Run reads of the whole machine's CPU time: the
// aggregate "cpu" line of /proc/stat, summed over all cores.
type MachineCPU struct {
	// Busy is user + nice + system + irq + softirq + steal: everything
	// but idle and iowait. Softirq matters: packets that the kernel
	// handles without waking a process (an eBPF fast path, the network
	// stack's receive work) are charged there or to whichever task was
	// running, never to the server's process alone.
	Busy time.Duration
	// Total adds idle and iowait to Busy.
	Total time.Duration
}

// ReadMachineCPU reads the aggregate "cpu" line of /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, fmt.Errorf("%w: %w", ErrProc, err)
	}
	return parseMachineCPU(b)
}

// parseMachineCPU parses the first line of a /proc/stat file, "cpu" then
// user, nice, system, idle, iowait, irq, softirq, steal (proc(5); guest
// time is already part of user and nice, so later fields are ignored), in
// USER_HZ ticks.
func parseMachineCPU(b []byte) (MachineCPU, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return MachineCPU{}, fmt.Errorf("%w: /proc/stat has no aggregate cpu line with 8 figures", ErrProc)
	}
	var v [8]uint64
	for i := range v {
		n, err := strconv.ParseUint(string(f[i+1]), 10, 64)
		if err != nil {
			return MachineCPU{}, fmt.Errorf("%w: /proc/stat: %w", ErrProc, err)
		}
		v[i] = n
	}
	user, nice, system, idle, iowait, irq, softirq, steal := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	busy := user + nice + system + irq + softirq + steal
	tick := func(n uint64) time.Duration { return time.Duration(n) * time.Second / userHZ }
	return MachineCPU{Busy: tick(busy), Total: tick(busy + idle + iowait)}, nil
}
