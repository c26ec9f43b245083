package main

import (
	"fmt"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// tcxPrograms prints {"programs":N}: how many eBPF programs are attached
// at the tcx ingress of interface dev (the offload's hook).
func tcxPrograms(dev string) error {
	iface, err := net.InterfaceByName(dev)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	res, err := link.QueryPrograms(link.QueryOptions{Target: iface.Index, Attach: ebpf.AttachTCXIngress})
	if err != nil {
		return fmt.Errorf("helper: querying tcx ingress of %s: %w", dev, err)
	}
	return printJSON(map[string]int{"programs": len(res.Programs)})
}
