package config

import (
	"strconv"
	"strings"
)

// maxBandwidth is the highest bandwidth accepted, in bytes per second
// (100 Gbit/s, policy.MaxBandwidth).
const maxBandwidth = 12_500_000_000

// bandwidthUnits are the units of a bandwidth, in bits per second, longest
// suffix first so that "kbps" is not read as "bps".
var bandwidthUnits = []struct {
	suffix string
	bits   uint64
}{
	{"kbps", 1_000},
	{"Mbps", 1_000_000},
	{"Gbps", 1_000_000_000},
	{"bps", 1},
}

// bandwidth decodes a bandwidth: a string of a positive integer and a unit
// of bits per second, bps, kbps, Mbps or Gbps (SI: k = 1000), such as
// "2Mbps" or "500kbps", into bytes per second, at least 1 and at most
// maxBandwidth.
func (p *parser) bandwidth(e entry) (uint64, error) {
	v, err := p.scalar(e, "a bandwidth")
	if err != nil {
		return 0, err
	}
	s := v.Value
	for _, u := range bandwidthUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || v.ShortTag() != "!!str" {
			break
		}
		if n > maxBandwidth*8/u.bits {
			return 0, p.fail(e, "%q: above 100Gbps", s)
		}
		bytes := n * u.bits / 8
		if bytes == 0 {
			return 0, p.fail(e, "%q: below 8bps (one byte per second); leave the key out for no cap", s)
		}
		return bytes, nil
	}
	return 0, p.fail(e, "%q: expected a whole number of bits per second with a unit: bps, kbps, Mbps or Gbps (\"2Mbps\")", s)
}

// bandwidthField decodes a bandwidth into dst.
func (p *parser) bandwidthField(dst *uint64) func(entry) error {
	return func(e entry) error {
		n, err := p.bandwidth(e)
		*dst = n
		return err
	}
}
