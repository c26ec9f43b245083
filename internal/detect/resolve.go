package detect

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/avedge/avedge/internal/config"
)

// Deps are what Resolve uses from the host; the zero value of each field
// is the real one.
type Deps struct {
	// Logger receives a line for each detected address, with its source.
	Logger *slog.Logger
	// InterfaceAddrs lists the host's addresses; nil is InterfaceAddrs.
	InterfaceAddrs func() ([]netip.Addr, error)
	// MetadataURL is the base URL of the cloud metadata services; "" is
	// MetadataURL.
	MetadataURL string
}

// Resolve detects the relay addresses that cfg sets to "auto", within
// relay.detect_timeout, and returns a copy of cfg holding them (see
// config.Config.WithDetected) with what was detected, for a reload to keep
// (Detected.For is empty when nothing was auto, and cfg itself is
// returned). relay.address auto is the host's single IPv4 address
// (HostAddress), relay.address_v6 its single IPv6 one; relay.advertised
// auto is what the STUN servers of relay.detect_with see as the relay
// address (STUN), or without any, what the cloud metadata service says
// (Metadata); when that is the relay address itself there is no NAT and
// advertised stays unset. Each result is logged with its source. A
// failure says which key to set instead.
func Resolve(ctx context.Context, cfg *config.Config, deps Deps) (*config.Config, config.Detected, error) {
	r := cfg.Relay
	if !r.Auto.Any() {
		return cfg, config.Detected{}, nil
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, r.DetectTimeout)
	defer cancel()
	d := config.Detected{For: r.Auto}
	if r.Auto.Address || r.Auto.AddressV6 {
		list := deps.InterfaceAddrs
		if list == nil {
			list = InterfaceAddrs
		}
		addrs, err := list()
		if err != nil {
			return nil, config.Detected{}, err
		}
		if r.Auto.Address {
			if d.Address, err = HostAddress(addrs, false); err != nil {
				return nil, config.Detected{}, err
			}
			log.Info("detected relay.address", "address", d.Address, "source", "host interfaces")
		}
		if r.Auto.AddressV6 {
			if d.AddressV6, err = HostAddress(addrs, true); err != nil {
				return nil, config.Detected{}, err
			}
			log.Info("detected relay.address_v6", "address", d.AddressV6, "source", "host interfaces")
		}
	}
	if r.Auto.Advertised {
		local := r.Address
		if r.Auto.Address {
			local = d.Address
		}
		pub, err := advertised(ctx, local, r.DetectWith, deps.MetadataURL, log)
		if err != nil {
			return nil, config.Detected{}, err
		}
		d.Advertised = pub
	}
	out, _, err := cfg.WithDetected(d)
	if err != nil {
		return nil, config.Detected{}, fmt.Errorf("detect: %w", err)
	}
	return out, d, nil
}

// advertised finds the public address in front of local with the STUN
// servers, or without any the metadata services at base; it returns the
// zero Addr when that is local itself (no NAT).
func advertised(ctx context.Context, local netip.Addr, servers []string, base string, log *slog.Logger) (netip.Addr, error) {
	var (
		pub    netip.Addr
		source string
		err    error
	)
	if len(servers) > 0 {
		pub, source, err = STUN(ctx, local, servers)
	} else {
		if base == "" {
			base = MetadataURL
		}
		pub, source, err = Metadata(ctx, base)
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: relay.advertised: auto: %w: set relay.advertised to this host's public address, or list STUN servers in relay.detect_with",
			ErrPublicAddress, err)
	}
	if pub == local {
		log.Info("relay.advertised: auto: the relay address is not behind a NAT: it is advertised itself", "address", local, "source", source)
		return netip.Addr{}, nil
	}
	log.Info("detected relay.advertised", "address", pub, "relay_address", local, "source", source)
	return pub, nil
}
