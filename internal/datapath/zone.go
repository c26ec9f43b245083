package datapath

// zoneIndex parses an IPv6 zone that is an interface index in decimal; the
// empty zone is index 0. Interface names are not resolved (that would
// allocate), so they report false.
func zoneIndex(zone string) (uint32, bool) {
	const maxIndex = 1<<32 - 1
	var idx uint64
	for i := 0; i < len(zone); i++ {
		d := zone[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		idx = idx*10 + uint64(d-'0')
		if idx > maxIndex {
			return 0, false
		}
	}
	return uint32(idx), true
}
