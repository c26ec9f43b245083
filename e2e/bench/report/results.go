package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ErrInput reports a line that is not a result record.
var ErrInput = errors.New("report: bad input")

// Record is one line of e2e/bench/compare's output: a run of `avedge bench`
// against one server, with the command that produced it.
type Record struct {
	Server  string `json:"server"`
	Load    string `json:"load"`
	Round   int    `json:"round"`
	Command string `json:"command"`
	// BaselineRSS is the server's VmRSS before the run (idle loads only).
	BaselineRSS *float64 `json:"baseline_rss_bytes"`
	// EdgeUDPIn and LoadUDPOut are e2e/bench/netns's counts of the
	// datagrams the edge namespace's sockets received and the load
	// namespace's sockets sent during the run (/proc/net/snmp).
	EdgeUDPIn  *float64 `json:"edge_udp_in"`
	LoadUDPOut *float64 `json:"load_udp_out"`
	// BackgroundBusy is e2e/bench/netns's share (%) of all cores' time
	// that the machine was busy over 2 s before the server started.
	BackgroundBusy *float64 `json:"background_busy_pct"`
	Result         Result   `json:"result"`
}

// Result is the JSON object `avedge bench --json` prints (absent = nil).
// It decodes the documented JSON contract on its own rather than reusing
// internal/bench.Result: the report reads result files written by any
// version of the load generator, and every figure is a float here because
// the report only takes medians and ratios of them.
type Result struct {
	Mode         string   `json:"mode"`
	Calls        *float64 `json:"calls"`
	Sent         *float64 `json:"sent"`
	Received     *float64 `json:"received"`
	Loss         *float64 `json:"loss"`
	PPSToPeer    *float64 `json:"pps_to_peer"`
	PPSToClient  *float64 `json:"pps_to_client"`
	Latency      Latency  `json:"latency_us"`
	CPUPerPacket *float64 `json:"server_cpu_us_per_packet"`
	// MachineCPUPerPacket is the whole machine's busy CPU time (all
	// cores, softirq included) per relayed packet; MachineBusy the share
	// of all cores' time that was busy; GeneratorCPUPerPacket the load
	// generator's own CPU time per relayed packet.
	MachineCPUPerPacket   *float64 `json:"machine_cpu_us_per_packet"`
	MachineBusy           *float64 `json:"machine_busy"`
	GeneratorCPUPerPacket *float64 `json:"generator_cpu_us_per_packet"`
	// AccountedCPUPerPacket is the server's, the generator's and the
	// kernel's ksoftirqd threads' CPU time per relayed packet.
	AccountedCPUPerPacket *float64           `json:"accounted_cpu_us_per_packet"`
	RSS                   *float64           `json:"server_rss_bytes"`
	AllocationsPerS       *float64           `json:"allocations_per_s"`
	RatePerCall           *float64           `json:"rate_per_call"`
	Errors                map[string]float64 `json:"errors"`
}

// Latency holds round-trip percentiles in microseconds.
type Latency struct {
	P50  *float64 `json:"p50"`
	P99  *float64 `json:"p99"`
	P999 *float64 `json:"p999"`
}

// Results are the records grouped by load, then server, in first-seen order.
type Results struct {
	Loads   []string
	Servers []string
	Runs    map[string]map[string][]Record
}

// readResults parses JSON lines; blank lines are skipped.
func readResults(r io.Reader) (*Results, error) {
	res := &Results{Runs: map[string]map[string][]Record{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrInput, line, err)
		}
		if rec.Server == "" || rec.Load == "" {
			return nil, fmt.Errorf("%w: line %d: server and load are required", ErrInput, line)
		}
		res.add(rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return res, nil
}

func (r *Results) add(rec Record) {
	if !slices.Contains(r.Loads, rec.Load) {
		r.Loads = append(r.Loads, rec.Load)
		r.Runs[rec.Load] = map[string][]Record{}
	}
	if !slices.Contains(r.Servers, rec.Server) {
		r.Servers = append(r.Servers, rec.Server)
	}
	r.Runs[rec.Load][rec.Server] = append(r.Runs[rec.Load][rec.Server], rec)
}
