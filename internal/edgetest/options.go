package edgetest

// Options configure an edge started by Start.
type Options struct {
	// RelayPortMin is the first relay port; the edge uses
	// RelayPortMin..RelayPortMin+RelayPorts-1. Required: each test package
	// picks its own range (e2e/webrtc: 34000-34999, e2e/browser:
	// 35000-35999, e2e/libnice: 36000-36959, e2e/pion: 37000-37999).
	RelayPortMin int
	// RelayPorts is the size of the relay port range (default 64).
	RelayPorts int
	// DenyLoopbackPeers makes the peer policy refuse loopback peers
	// (default: 127.0.0.0/8 and ::1 allowed, as on the development edge),
	// so that relaying to a loopback peer fails with 403.
	DenyLoopbackPeers bool
	// Workers is the number of packet workers (default 1).
	Workers int
}

// defaultRelayPorts is the default of Options.RelayPorts.
const defaultRelayPorts = 64

// withDefaults fills in the zero fields of o.
func (o Options) withDefaults() Options {
	if o.RelayPorts <= 0 {
		o.RelayPorts = defaultRelayPorts
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	return o
}
