package server

import "github.com/avedge/avedge/internal/server/stats"

// kind returns the stats.AllocationKind of s as it is now: a dual
// allocation that gave up one family counts as the other.
func (s *session) kind() stats.AllocationKind {
	dialect := stats.DialectRFC
	if s.ms != nil {
		dialect = stats.DialectMSTURN
	}
	transport := stats.TransportUDP
	if c := s.client.conn; c != nil {
		transport = c.c.Transport()
	}
	relay := stats.RelayUDP
	if s.tcp != nil {
		relay = stats.RelayTCP
	}
	family := stats.FamilyIPv4
	switch v4, v6 := s.relays[famV4].sock != nil, s.relays[famV6].sock != nil; {
	case v4 && v6:
		family = stats.FamilyDual
	case v6:
		family = stats.FamilyIPv6
	}
	return stats.KindOf(dialect, transport, relay, family)
}

// ports is the number of relay ports s holds: one per relayed address.
func (s *session) ports() int {
	n := 0
	for _, rl := range s.relays {
		if rl.sock != nil {
			n++
		}
	}
	return n
}
