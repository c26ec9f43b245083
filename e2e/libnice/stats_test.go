package libnice

import "github.com/avedge/avedge/internal/server"

// created returns the number of allocations the edge made for clients of
// the client transport ("udp", "tcp" or "tls"), and for any other.
func created(st server.Stats, transport string) (mine, others uint64) {
	for k, n := range st.AllocationsCreated {
		if server.AllocationKind(k).Transport() == transport {
			mine += n
		} else {
			others += n
		}
	}
	return mine, others
}
