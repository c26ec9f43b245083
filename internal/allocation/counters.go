package allocation

import "sync/atomic"

// Counters count the traffic an allocation relayed, for session records.
// The worker that owns the allocation adds to them; any goroutine may read
// them.
type Counters struct {
	// ToPeerPackets counts packets relayed from the client to peers.
	ToPeerPackets atomic.Uint64
	// ToPeerBytes counts payload bytes relayed from the client to peers.
	ToPeerBytes atomic.Uint64
	// ToClientPackets counts packets relayed from peers to the client.
	ToClientPackets atomic.Uint64
	// ToClientBytes counts payload bytes relayed from peers to the client.
	ToClientBytes atomic.Uint64
	// BandwidthDrops counts packets, either way, dropped over the
	// allocation's or its user's bandwidth cap.
	BandwidthDrops atomic.Uint64
}
