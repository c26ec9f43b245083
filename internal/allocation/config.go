package allocation

import "time"

// Config holds the lifetimes and per-allocation caps of a Table.
type Config struct {
	// DefaultLifetime is granted when a request has no LIFETIME and is the
	// floor for requested lifetimes (RFC 8656 §7.2: 600 s).
	DefaultLifetime time.Duration
	// MaxLifetime caps requested lifetimes (RFC 8656 §7.2 suggests 3600 s).
	MaxLifetime time.Duration
	// PermissionLifetime is how long a permission lasts (RFC 8656 §9:
	// 300 s, not configurable by the client).
	PermissionLifetime time.Duration
	// ChannelLifetime is how long a channel binding lasts (RFC 8656 §12:
	// 600 s).
	ChannelLifetime time.Duration
	// MaxPermissions caps permissions per allocation.
	MaxPermissions int
	// MaxChannels caps channel bindings per allocation, counting bindings
	// in their 5-minute post-expiry quarantine.
	MaxChannels int
	// StrictChannelNumbers binds RFC 8656's channel numbers only,
	// 0x4000-0x4FFF; otherwise RFC 5766's 0x4000-0x7FFF as well.
	StrictChannelNumbers bool
}

// DefaultConfig returns the RFC 8656 lifetimes and caps of 64 permissions
// and 64 channels per allocation. A WebRTC client asks for one permission
// per remote candidate IP (host, server-reflexive and relayed, over IPv4 and
// IPv6: typically 2-8, rarely over 20), and a client rarely binds more
// channels than it has peers; 64 leaves ample headroom for SFUs and ICE
// restarts while bounding a hostile client to about 5 KiB of entries.
func DefaultConfig() Config {
	return Config{
		DefaultLifetime:    600 * time.Second,
		MaxLifetime:        3600 * time.Second,
		PermissionLifetime: 300 * time.Second,
		ChannelLifetime:    600 * time.Second,
		MaxPermissions:     64,
		MaxChannels:        64,
	}
}

// defaultConfig governs allocations that are not in a Table. It is never
// modified.
var defaultConfig = DefaultConfig()

// WithDefaults returns c with every zero or negative field replaced by its
// DefaultConfig value.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.DefaultLifetime <= 0 {
		c.DefaultLifetime = d.DefaultLifetime
	}
	if c.MaxLifetime <= 0 {
		c.MaxLifetime = d.MaxLifetime
	}
	if c.PermissionLifetime <= 0 {
		c.PermissionLifetime = d.PermissionLifetime
	}
	if c.ChannelLifetime <= 0 {
		c.ChannelLifetime = d.ChannelLifetime
	}
	if c.MaxPermissions <= 0 {
		c.MaxPermissions = d.MaxPermissions
	}
	if c.MaxChannels <= 0 {
		c.MaxChannels = d.MaxChannels
	}
	return c
}

// Lifetime returns the lifetime to grant for an Allocate or Refresh request
// whose LIFETIME attribute holds requested (present reports whether the
// attribute was there). RFC 8656 §7.2: "If the server receives a LIFETIME
// attribute, it computes min(client's proposed lifetime, server's maximum
// allowed lifetime). If this computed value is greater than the default
// lifetime, then the server uses the computed lifetime [...]. Otherwise, the
// server uses the default lifetime." §7.3 applies the same rule to Refresh;
// a Refresh asking for 0 is a deletion, which the caller handles before
// calling Lifetime.
func (c Config) Lifetime(requested time.Duration, present bool) time.Duration {
	if !present {
		return c.DefaultLifetime
	}
	return max(min(requested, c.MaxLifetime), c.DefaultLifetime)
}
