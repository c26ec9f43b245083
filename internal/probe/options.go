package probe

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

// Defaults of Options.
const (
	defaultTimeout     = 5 * time.Second
	defaultMaxLifetime = 8 * time.Hour
)

// Options configure a probe.
type Options struct {
	// URIs are the TURN and STUN URIs to test (see ParseURI). When empty,
	// the URIs that came with the credential are tested.
	URIs []string
	// Credentials yield the credential for the allocation checks; nil
	// skips them.
	Credentials CredentialSource
	// Timeout bounds each network operation; 0 means 5s.
	Timeout time.Duration
	// PeerAddress, if valid, is the address the probe peer binds to and
	// the edge is asked to permit; by default the peer binds to the
	// address the probe uses towards the relay and the permission is for
	// the address the edge sees the probe as (XOR-MAPPED-ADDRESS).
	PeerAddress netip.Addr
	// RootCAs verify the edge's TLS certificate; nil means the system's.
	RootCAs *x509.CertPool
	// MaxCredentialLifetime is the edge's limit on how far ahead a
	// credential's expiry may lie; 0 means 8h.
	MaxCredentialLifetime time.Duration
	// Network reaches the edge; nil means SystemNetwork.
	Network Network
	// Clock tells the time, for durations, deadlines, certificate
	// validity and credential expiry; nil means the wall clock. Socket
	// deadlines come from it, so it must follow the wall clock when the
	// network is real.
	Clock clock.Clock
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Timeout < 0 || o.MaxCredentialLifetime < 0 {
		return o, fmt.Errorf("%w: negative timeout or lifetime", ErrBadOptions)
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxCredentialLifetime == 0 {
		o.MaxCredentialLifetime = defaultMaxLifetime
	}
	if o.Network == nil {
		o.Network = SystemNetwork{}
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	for _, u := range o.URIs {
		if _, err := ParseURI(u); err != nil {
			return o, err
		}
	}
	if len(o.URIs) == 0 && o.Credentials == nil {
		return o, fmt.Errorf("%w: no URI to probe", ErrBadOptions)
	}
	return o, nil
}
