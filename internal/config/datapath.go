package config

import (
	"encoding/json"
	"time"
)

// DataPath tunes the packet workers.
type DataPath struct {
	// BatchDelay is how long a packet worker whose sockets have nothing
	// ready waits for more packets before it blocks in epoll_wait: packets
	// arriving meanwhile are handled in one round, for fewer wake-ups and
	// system calls per packet at moderate load (interrupt moderation, in
	// user space). It adds at most this much latency; 0 never waits.
	BatchDelay time.Duration
	// Offload is the kernel fast path for channel data (docs/offload.md):
	// OffloadOff, OffloadAuto, OffloadTC or OffloadXDP.
	Offload string
}

// The values of datapath.offload.
const (
	// OffloadOff relays every packet in user space.
	OffloadOff = "off"
	// OffloadAuto uses the eBPF offload where the kernel, the privileges
	// and the interfaces allow, and the user-space path otherwise.
	OffloadAuto = "auto"
	// OffloadTC requires the eBPF offload at TC ingress: the edge does not
	// start without it.
	OffloadTC = "tc"
	// OffloadXDP requires the eBPF offload at XDP, in the drivers of the
	// edge's interfaces (native mode): the edge does not start without it.
	// auto never picks it (docs/offload.md says why).
	OffloadXDP = "xdp"
)

// offloadModes are the values datapath.offload accepts.
var offloadModes = []string{OffloadOff, OffloadAuto, OffloadTC, OffloadXDP}

const (
	// defaultBatchDelay is batch_delay's default: under 500 audio calls on
	// 2 cores it cut the CPU time per relayed packet by about 10% (see
	// docs/benchmarks.md) for 0.25 ms of added latency per pass on average.
	defaultBatchDelay = 500 * time.Microsecond
	// maxBatchDelay bounds batch_delay (datapath.MaxBatchDelay; config
	// does not import the data path).
	maxBatchDelay = time.Millisecond
	// defaultOffload is offload's default: off until the benchmarks of
	// issue #21 show what it gains (docs/offload.md).
	defaultOffload = OffloadOff
)

// defaultDataPath returns the data path defaults.
func defaultDataPath() DataPath {
	return DataPath{BatchDelay: defaultBatchDelay, Offload: defaultOffload}
}

// MarshalJSON writes d with batch_delay as a duration string.
func (d DataPath) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		BatchDelay string `json:"batch_delay"`
		Offload    string `json:"offload"`
	}{formatDuration(d.BatchDelay), d.Offload})
}

// dataPath decodes the datapath section.
func (p *parser) dataPath(e entry, dst *DataPath) error {
	_, err := p.mapping(e, []field{
		{"batch_delay", func(e entry) error {
			d, err := p.duration(e, 0, maxBatchDelay)
			dst.BatchDelay = d
			return err
		}},
		{"offload", func(e entry) error {
			return p.oneOf(e, offloadModes, &dst.Offload)
		}},
	})
	return err
}
