package offload

//go:generate bash ../../scripts/gen-bpf
