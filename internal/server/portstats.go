package server

// PortStats is the use of the relay port pools, summed over the relay
// addresses (one pool each).
type PortStats struct {
	// InUse counts the ports taken for relayed addresses.
	InUse uint64
	// Reserved counts the ports held for a RESERVATION-TOKEN (EVEN-PORT
	// with the R bit), expired ones not yet handed back included.
	Reserved uint64
	// Quarantined counts the ports taken out of the pools for good because
	// another program held them.
	Quarantined uint64
	// Capacity is the size of the configured port range times the relay
	// addresses.
	Capacity uint64
}

// portStats reads the pools: what is neither free, reserved nor
// quarantined is in use. The pools, the reservations and the quarantine
// count are read one after the other, so while allocations come and go a
// figure may be off by the few ports that moved meanwhile.
func (e *shared) portStats() PortStats {
	var st PortStats
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
	st.Quarantined = e.quarantined.Load()
	st.InUse = taken - min(taken, st.Reserved+st.Quarantined)
	return st
}
