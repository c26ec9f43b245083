// Package offload is avedge's kernel fast path for TURN channel data: an
// eBPF program at TC ingress (tcx, Linux 6.6 or later), or at XDP in the
// driver (Options.Hook), that relays the ChannelData of UDP clients with a
// bound channel to their UDP peers, and the peers' datagrams back as
// ChannelData, without the packets reaching user space. It relays over IPv4 and over IPv6, each channel within one
// family (no translation between them), on channel numbers 0x4000-0x7FFF.
//
// User space keeps all authority. Open loads the program (the object in
// offload_bpfel.o, built from bpf/offload.c by scripts/gen-bpf and
// committed, so that building avedge needs no clang) and attaches it to
// named Ethernet interfaces; Install adds a bound channel (both
// directions), Remove takes it away, Counters reads back what was relayed
// for it and Stats what the program did overall. Each entry carries the
// permission's expiry on the kernel's monotonic clock, and the program
// drops (and counts) a packet on an expired entry, so a removal user space
// missed cannot extend a permission. Anything the program is not sure of
// goes to the stack unchanged and so to the user-space data path; see
// docs/offload.md.
//
// At XDP the loader also keeps the next hops' MAC addresses in a map for
// the program, from the kernel's routes and neighbours (neigh_linux.go).
//
// Nothing is pinned: the program is attached through tcx or XDP links
// owned by the process's file descriptors, so it is detached and its maps freed
// when the Loader is closed or the process exits, crashed or not, and a
// restart finds no stale state to clear.
//
// Open, Install and the route lookups behind it work in the network
// namespace of the thread that calls Open (tests open a Loader inside a
// namespace they created).
package offload
