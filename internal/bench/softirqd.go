package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// ReadSoftirqd returns the CPU time of the kernel's ksoftirqd threads (one
// per core): the packet work that the kernel defers when softirqs run too
// long in the context of the task that raised them. Together with the
// server's and the load generator's own CPU time it accounts for a relayed
// packet without the other processes of a shared machine, which
// MachineCPU counts.
func ReadSoftirqd() (time.Duration, error) {
	return readSoftirqd("/proc")
}

// readSoftirqd sums utime+stime of the tasks under proc whose comm starts
// with "ksoftirqd/". A task that ends while being read is skipped.
func readSoftirqd(proc string) (time.Duration, error) {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrProc, err)
	}
	var sum time.Duration
	found := false
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, err := os.ReadFile(proc + "/" + e.Name() + "/comm")
		if err != nil || !strings.HasPrefix(string(comm), "ksoftirqd/") {
			continue
		}
		stat, err := os.ReadFile(proc + "/" + e.Name() + "/stat")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrProc, err)
		}
		cpu, err := parseStatCPU(stat)
		if err != nil {
			return 0, err
		}
		sum += cpu
		found = true
	}
	if !found {
		return 0, fmt.Errorf("%w: no ksoftirqd thread in %s", ErrProc, proc)
	}
	return sum, nil
}
