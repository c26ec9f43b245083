package edge

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// The Linux sysctls of the kernel's ephemeral ports (they apply to IPv6
// too).
const (
	portRangeFile     = "/proc/sys/net/ipv4/ip_local_port_range"
	reservedPortsFile = "/proc/sys/net/ipv4/ip_local_reserved_ports"
)

// warnEphemeral logs a warning when relay ports first..last lie in the
// kernel's ephemeral port range without being reserved from it: any
// outbound socket of the host (a DNS query, an agent's connection) may
// then take one, and the relay must quarantine it. Hosts without the
// sysctls (other systems) are not checked.
func warnEphemeral(log *slog.Logger, first, last int, read func(string) ([]byte, error)) {
	rng, err1 := read(portRangeFile)
	res, err2 := read(reservedPortsFile)
	if err1 != nil || err2 != nil {
		return
	}
	n, err := unreservedEphemeral(string(rng), string(res), first, last)
	if err != nil {
		log.Debug("ephemeral port range not checked", "err", err)
		return
	}
	if n > 0 {
		log.Warn("relay ports lie in the kernel's ephemeral port range and are not reserved: outbound sockets of this host may take them",
			"relay_ports", fmt.Sprintf("%d-%d", first, last), "unreserved", n,
			"remedy", fmt.Sprintf("sysctl -w net.ipv4.ip_local_reserved_ports=%d-%d (see deploy/systemd/avedge-sysctl.conf)", first, last))
	}
}

// unreservedEphemeral returns how many ports of first..last lie in the
// ephemeral range portRange ("32768\t60999") and not in reserved
// ("50000-59999,8080", or empty).
func unreservedEphemeral(portRange, reserved string, first, last int) (int, error) {
	f := strings.Fields(portRange)
	if len(f) != 2 {
		return 0, fmt.Errorf("ip_local_port_range %q: not two ports", portRange)
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("ip_local_port_range %q: not two ports", portRange)
	}
	var ranges [][2]int
	for _, part := range strings.Split(strings.TrimSpace(reserved), ",") {
		if part == "" {
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		x, errA := strconv.Atoi(a)
		y := x
		var errB error
		if isRange {
			y, errB = strconv.Atoi(b)
		}
		if errA != nil || errB != nil {
			return 0, fmt.Errorf("ip_local_reserved_ports %q: %q is not a port or range", reserved, part)
		}
		ranges = append(ranges, [2]int{x, y})
	}
	n := 0
	for p := max(first, lo); p <= min(last, hi); p++ {
		if !inRanges(ranges, p) {
			n++
		}
	}
	return n, nil
}

// inRanges reports whether p lies in one of ranges.
func inRanges(ranges [][2]int, p int) bool {
	for _, r := range ranges {
		if p >= r[0] && p <= r[1] {
			return true
		}
	}
	return false
}
