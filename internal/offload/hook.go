package offload

// Hook is where Open attaches the program.
type Hook int

// The hooks. The zero value is HookTC.
const (
	// HookTC attaches the TC program at tcx ingress (Linux 6.6 or later),
	// on any Ethernet interface.
	HookTC Hook = iota
	// HookXDP attaches the XDP program in native (driver) mode, never
	// generic, on interfaces whose driver runs XDP; the Ethernet addresses
	// of the frames it sends come from the kernel's neighbour table
	// through the loader (see docs/offload.md).
	HookXDP
)

// String returns "tc" or "xdp", as datapath.offload names the hooks.
func (h Hook) String() string {
	if h == HookXDP {
		return "xdp"
	}
	return "tc"
}
