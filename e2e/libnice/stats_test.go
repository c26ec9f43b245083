package libnice

import "github.com/avedge/avedge/internal/server/stats"

// created returns the number of [MS-TURN] allocations the edge made for
// clients of the client transport ("udp", "tcp" or "pseudo-tls"), and of
// any other kind.
func created(st stats.Stats, transport string) (mine, others uint64) {
	for k, n := range st.AllocationsCreated {
		if k := stats.AllocationKind(k); k.Dialect() == stats.DialectMSTURN && k.Transport().String() == transport {
			mine += n
		} else {
			others += n
		}
	}
	return mine, others
}
