package config

import (
	"encoding/json"
	"time"
)

// Lifetimes are the allocation, permission and channel binding lifetimes.
type Lifetimes struct {
	// AllocationDefault is the lifetime given when a client asks for less
	// (RFC 8656 §7.2, "the default lifetime").
	AllocationDefault time.Duration
	// AllocationMax caps the lifetime a client may ask for (RFC 8656 §7.2,
	// "the server's maximum allowed lifetime").
	AllocationMax time.Duration
	// Permission is the permission lifetime (RFC 8656 §9).
	Permission time.Duration
	// Channel is the channel binding lifetime (RFC 8656 §12).
	Channel time.Duration
}

const (
	// RFC 8656 §7.2 step: the default lifetime is 10 minutes, and "It is
	// RECOMMENDED that the server use a maximum allowed lifetime value of no
	// more than 3600 seconds (1 hour)"; avedge enforces that bound.
	defaultAllocationLifetime = 10 * time.Minute
	defaultAllocationMax      = time.Hour
	// RFC 8656 §9: "The permission lifetime MUST be 300 seconds (= 5
	// minutes)."
	rfcPermissionLifetime = 5 * time.Minute
	// RFC 8656 §12: a channel binding lasts for 10 minutes unless refreshed.
	rfcChannelLifetime = 10 * time.Minute
	// minLifetime and maxLifetime bound every lifetime.
	minLifetime = time.Minute
	maxLifetime = time.Hour
)

// defaultLifetimes returns the lifetimes of RFC 8656.
func defaultLifetimes() Lifetimes {
	return Lifetimes{
		AllocationDefault: defaultAllocationLifetime,
		AllocationMax:     defaultAllocationMax,
		Permission:        rfcPermissionLifetime,
		Channel:           rfcChannelLifetime,
	}
}

// MarshalJSON writes the lifetimes as duration strings such as "10m".
func (l Lifetimes) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AllocationDefault string `json:"allocation_default"`
		AllocationMax     string `json:"allocation_max"`
		Permission        string `json:"permission"`
		Channel           string `json:"channel"`
	}{
		formatDuration(l.AllocationDefault),
		formatDuration(l.AllocationMax),
		formatDuration(l.Permission),
		formatDuration(l.Channel),
	})
}

// lifetimes decodes the lifetimes section. Permission and channel lifetimes
// other than the RFC's are accepted with a warning.
func (p *parser) lifetimes(e entry, dst *Lifetimes) error {
	rfc := func(e entry, d *time.Duration, want time.Duration, section string) error {
		v, err := p.duration(e, minLifetime, maxLifetime)
		if err != nil {
			return err
		}
		if v != want {
			p.warn(e.path, "%s differs from the %s that RFC 8656 %s specifies and clients expect",
				formatDuration(v), formatDuration(want), section)
		}
		*d = v
		return nil
	}
	_, err := p.mapping(e, []field{
		{"allocation_default", func(e entry) error {
			d, err := p.duration(e, minLifetime, maxLifetime)
			dst.AllocationDefault = d
			return err
		}},
		{"allocation_max", func(e entry) error {
			d, err := p.duration(e, minLifetime, maxLifetime)
			dst.AllocationMax = d
			return err
		}},
		{"permission", func(e entry) error { return rfc(e, &dst.Permission, rfcPermissionLifetime, "§9") }},
		{"channel", func(e entry) error { return rfc(e, &dst.Channel, rfcChannelLifetime, "§12") }},
	})
	return err
}

// finishLifetimes requires allocation_default <= allocation_max.
func (p *parser) finishLifetimes() error {
	l := p.cfg.Lifetimes
	if l.AllocationDefault <= l.AllocationMax {
		return nil
	}
	key := "lifetimes.allocation_default"
	if _, ok := p.at[key]; !ok {
		key = "lifetimes.allocation_max"
	}
	return p.failAt(p.where(key), key, "allocation_default (%s) exceeds allocation_max (%s)",
		formatDuration(l.AllocationDefault), formatDuration(l.AllocationMax))
}
