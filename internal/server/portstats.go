package server

import "github.com/avedge/avedge/internal/server/stats"

// portStats reads the pools: what is neither free, reserved nor
// quarantined is in use. The pools, the reservations and the quarantine
// count are read one after the other, so while allocations come and go a
// figure may be off by the few ports that moved meanwhile.
func (e *shared) portStats() stats.PortStats {
	var st stats.PortStats
	var taken uint64
	for _, f := range e.families {
		if f.pool == nil {
			continue
		}
		size := uint64(f.pool.Size())
		st.Capacity += size
		taken += size - uint64(f.pool.Free())
	}
	st.Reserved = uint64(e.reservations.Len())
	for _, f := range e.families {
		if f.pool != nil {
			st.Quarantined += uint64(f.pool.Quarantined())
		}
	}
	st.InUse = taken - min(taken, st.Reserved+st.Quarantined)
	return st
}
