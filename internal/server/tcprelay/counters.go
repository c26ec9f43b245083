package tcprelay

import (
	"sync/atomic"

	"github.com/avedge/avedge/internal/server/stats"
)

// Counters count the life of TCP relay connections; any goroutine adds to
// them.
type Counters struct {
	// Connects counts peer connections opened by Connect, ConnectFailed
	// the attempts answered with 447, Inbound the peers accepted.
	Connects, ConnectFailed, Inbound atomic.Uint64
	// RefusedNoPermission counts inbound peers without a permission,
	// RefusedLimit peer connections over a limit, BindsExpired those
	// whose ConnectionBind did not come in time.
	RefusedNoPermission, RefusedLimit, BindsExpired atomic.Uint64
	// Bound counts client data connections made by ConnectionBind,
	// BadBinds the refused ones.
	Bound, BadBinds atomic.Uint64
	// ToPeerBytes and ToClientBytes count the bytes Splice relayed, as
	// each connection ends; DataOpen is the number of spliced pairs.
	ToPeerBytes, ToClientBytes atomic.Uint64
	DataOpen                   atomic.Int64
}

// Stats returns the counts.
func (c *Counters) Stats() stats.TCPRelayStats {
	return stats.TCPRelayStats{
		Connects:            c.Connects.Load(),
		ConnectFailed:       c.ConnectFailed.Load(),
		Inbound:             c.Inbound.Load(),
		RefusedNoPermission: c.RefusedNoPermission.Load(),
		RefusedLimit:        c.RefusedLimit.Load(),
		BindsExpired:        c.BindsExpired.Load(),
		BadBinds:            c.BadBinds.Load(),
		Bound:               c.Bound.Load(),
		DataOpen:            c.DataOpen.Load(),
		ToPeerBytes:         c.ToPeerBytes.Load(),
		ToClientBytes:       c.ToClientBytes.Load(),
	}
}
