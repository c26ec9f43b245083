package bench

// Result is the outcome of a run, in the JSON shape of the bench contract.
// Absent figures are nil (JSON null).
type Result struct {
	Mode      string   `json:"mode"`
	Server    string   `json:"server"`
	DurationS float64  `json:"duration_s"`
	Calls     int      `json:"calls"`
	Sent      *uint64  `json:"sent"`
	Received  *uint64  `json:"received"`
	Loss      *float64 `json:"loss"`
	// PPSToPeer and PPSToClient are the relayed packets/s each way,
	// counted at the peer and at the client.
	PPSToPeer   *float64 `json:"pps_to_peer"`
	PPSToClient *float64 `json:"pps_to_client"`
	// LatencyUS holds round-trip latency quantiles in microseconds.
	LatencyUS *Latency `json:"latency_us"`
	// ServerCPUS is the server's CPU time over the measuring window.
	ServerCPUS *float64 `json:"server_cpu_s"`
	// ServerCPUUSPerPacket is ServerCPUS per relayed packet, both ways.
	ServerCPUUSPerPacket *float64 `json:"server_cpu_us_per_packet"`
	// MachineCPUS is the whole machine's busy CPU time over the measuring
	// window, all cores, softirq included (MachineCPU.Busy): the fair
	// figure when part of the relaying is done by the kernel outside the
	// server's process.
	MachineCPUS *float64 `json:"machine_cpu_s"`
	// MachineBusy is MachineCPUS as a share (0 to 1) of all cores' time
	// over the window: near 1, the machine was saturated.
	MachineBusy *float64 `json:"machine_busy"`
	// MachineCPUUSPerPacket is MachineCPUS per relayed packet, both ways.
	// It includes the load generator's own work.
	MachineCPUUSPerPacket *float64 `json:"machine_cpu_us_per_packet"`
	// GeneratorCPUS is the CPU time of this process (the clients and the
	// echo peer) over the measuring window.
	GeneratorCPUS *float64 `json:"generator_cpu_s"`
	// GeneratorCPUUSPerPacket is GeneratorCPUS per relayed packet, both
	// ways.
	GeneratorCPUUSPerPacket *float64 `json:"generator_cpu_us_per_packet"`
	// SoftirqdCPUS is the CPU time of the kernel's ksoftirqd threads over
	// the measuring window (ReadSoftirqd).
	SoftirqdCPUS *float64 `json:"softirqd_cpu_s"`
	// AccountedCPUUSPerPacket is the server's, the generator's and the
	// ksoftirqd threads' CPU time per relayed packet: the relaying's cost
	// without the rest of a shared machine (null without the server's).
	AccountedCPUUSPerPacket *float64 `json:"accounted_cpu_us_per_packet"`
	// ServerRSSBytes is the server's VmRSS at the end.
	ServerRSSBytes *uint64 `json:"server_rss_bytes"`
	// AllocationsPerS is churn's completed Allocate+Refresh cycles per second.
	AllocationsPerS *float64 `json:"allocations_per_s"`
	// RatePerCall is flood's offered packets/s per allocation (null when
	// flooding as fast as possible).
	RatePerCall *float64 `json:"rate_per_call"`
	// MaxLoss is the loss bound of a rate search (null otherwise): the
	// result is then the fastest run whose loss stayed within it, or, if
	// none did, the first run.
	MaxLoss *float64 `json:"max_loss"`
	// Errors counts failures by reason.
	Errors map[string]uint64 `json:"errors"`
}

// Latency holds latency quantiles in microseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
