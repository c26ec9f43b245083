package offload

import "errors"

// Sentinel errors of the package; returned errors wrap them.
var (
	// ErrUnsupported reports that the system cannot run the offload: not
	// Linux, a kernel without tcx (before 6.6) or without a helper the
	// program uses, missing privileges (CAP_BPF and CAP_NET_ADMIN), or,
	// at XDP, an interface whose driver has no native XDP.
	ErrUnsupported = errors.New("offload: not supported here")
	// ErrLoad reports that the kernel refused the program or its maps; the
	// error's text carries the verifier's log.
	ErrLoad = errors.New("offload: loading the eBPF program")
	// ErrInterface reports an interface that is unknown, not Ethernet, or
	// to which the program could not be attached.
	ErrInterface = errors.New("offload: interface")
	// ErrChannel reports a Channel that cannot be offloaded: addresses of
	// different families, an invalid or zoned address, or a channel number
	// outside 0x4000-0x7FFF.
	ErrChannel = errors.New("offload: channel cannot be offloaded")
	// ErrRoute reports that no route leads to a client or a peer, or that
	// the kernel's routes or neighbours could not be read (XDP's next
	// hops).
	ErrRoute = errors.New("offload: no route")
	// ErrNotFound reports a Channel that is not installed.
	ErrNotFound = errors.New("offload: channel not installed")
	// ErrClosed reports a call on a closed Loader.
	ErrClosed = errors.New("offload: loader closed")
)
