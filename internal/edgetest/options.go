package edgetest

import "time"

// Options configure an edge started by Start.
type Options struct {
	// RelayPortMin is the first relay port; the edge uses
	// RelayPortMin..RelayPortMin+RelayPorts-1. Required: each test package
	// picks its own range (e2e/webrtc: 34000-34999, e2e/browser:
	// 35000-35999, for Firefox 39000-39255 and for its shipped-binary
	// edges 39700-39827, e2e/libnice: 36000-36959, e2e/pion: 37000-37999,
	// e2e/acme: 38000-38999, e2e/proxy: 39600-39663).
	RelayPortMin int
	// RelayPorts is the size of the relay port range (default 64).
	RelayPorts int
	// DenyLoopbackPeers makes the peer policy refuse loopback peers
	// (default: 127.0.0.0/8 and ::1 allowed, as on the development edge),
	// so that relaying to a loopback peer fails with 403.
	DenyLoopbackPeers bool
	// Workers is the number of packet workers (default 1).
	Workers int
	// CredentialTTL is the lifetime of the credentials Credentials and
	// ICEServers ask for (default 1h).
	CredentialTTL time.Duration
	// AllocationLifetime, if set, is both the default and the maximum
	// allocation lifetime (RFC 8656 §7.2 suggests 600 s and 3600 s), so
	// that clients refresh often: Chromium refreshes at half a lifetime
	// under two minutes.
	AllocationLifetime time.Duration
	// StrictExpiry checks a credential's expiry on every request
	// (auth.strict_expiry), so calls end with their credential.
	StrictExpiry bool
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
	if o.CredentialTTL <= 0 {
		o.CredentialTTL = time.Hour
	}
	return o
}
