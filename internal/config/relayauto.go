package config

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// autoKeyword is the value of a relay address key whose address is
// detected when the edge starts.
const autoKeyword = "auto"

const (
	// defaultDetectTimeout bounds the detection of the auto relay
	// addresses, all servers and retransmissions included.
	defaultDetectTimeout = 3 * time.Second
	// minDetectTimeout and maxDetectTimeout bound relay.detect_timeout.
	minDetectTimeout = 100 * time.Millisecond
	maxDetectTimeout = time.Minute
)

// RelayAuto says which relay address keys the configuration sets to
// "auto".
type RelayAuto struct {
	// Address is relay.address: the host's single IPv4 unicast address
	// that is neither loopback nor link-local.
	Address bool
	// AddressV6 is relay.address_v6: the host's single global unicast
	// IPv6 address.
	AddressV6 bool
	// Advertised is relay.advertised: the public address in front of the
	// relay address, found with the STUN servers of relay.detect_with, or
	// else the cloud's metadata service.
	Advertised bool
}

// Any reports whether any relay address key is "auto".
func (a RelayAuto) Any() bool { return a.Address || a.AddressV6 || a.Advertised }

// Keys returns the keys set to "auto", such as "relay.address".
func (a RelayAuto) Keys() []string {
	var keys []string
	for _, k := range []struct {
		set bool
		key string
	}{{a.Address, "relay.address"}, {a.AddressV6, "relay.address_v6"}, {a.Advertised, "relay.advertised"}} {
		if k.set {
			keys = append(keys, k.key)
		}
	}
	return keys
}

// orAuto returns a field decoder that sets *flag for the value "auto" and
// otherwise decodes with decode.
func (p *parser) orAuto(flag *bool, decode func(entry) error) func(entry) error {
	return func(e entry) error {
		if v := resolve(e.val); v.ShortTag() == "!!str" && v.Value == autoKeyword {
			*flag = true
			return nil
		}
		return decode(e)
	}
}

// noAuto returns a field decoder that refuses "auto", which the key does
// not have, and otherwise decodes with decode.
func (p *parser) noAuto(decode func(entry) error) func(entry) error {
	return func(e entry) error {
		if v := resolve(e.val); v.ShortTag() == "!!str" && v.Value == autoKeyword {
			return p.fail(e, "cannot be auto (only relay.address, relay.address_v6 and relay.advertised are detected): write the address")
		}
		return decode(e)
	}
}

// detectWith decodes relay.detect_with: a list of distinct STUN servers,
// each "host:port" with an IP address or a DNS name as host.
func (p *parser) detectWith(e entry, dst *[]string) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	var out []string
	for _, item := range items {
		s, err := p.str(item)
		if err != nil {
			return err
		}
		host, port, err := net.SplitHostPort(s)
		n, okPort := decimal(port)
		switch {
		case err != nil || host == "":
			return p.fail(item, "%q: not a STUN server \"host:port\" such as \"stun.example.com:3478\"", s)
		case !okPort || n < 1 || n > 65535:
			return p.fail(item, "%q: the port must be a number from 1 to 65535", s)
		case !validHost(host):
			return p.fail(item, "%q: %q is neither an IP address nor a DNS name", s, host)
		case slices.Contains(out, s):
			return p.fail(item, "%q: listed twice", s)
		}
		out = append(out, s)
	}
	*dst = out
	return nil
}

// validHost reports whether h is an IP address without a zone or a DNS
// name of letters, digits, hyphens and dots.
func validHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == ""
	}
	if len(h) > 253 || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	return strings.Trim(strings.ToLower(h), "abcdefghijklmnopqrstuvwxyz0123456789-.") == ""
}

// detectTimeout decodes relay.detect_timeout.
func (p *parser) detectTimeout(e entry, dst *time.Duration) error {
	d, err := p.duration(e, minDetectTimeout, maxDetectTimeout)
	*dst = d
	return err
}

// finishRelayAuto checks the auto relay keys against the interfaces
// section (relayed addresses then live on interfaces.external, and a public
// address written there is not detected) and warns about detection
// settings that nothing uses.
func (p *parser) finishRelayAuto() error {
	r, ifs := p.cfg.Relay, p.cfg.Interfaces
	switch {
	case ifs != nil && r.Auto.Address:
		return p.failAt(p.where("relay.address"), "relay.address",
			"auto: with an interfaces section, relayed addresses live on interfaces.external.address: leave relay.address out")
	case ifs != nil && r.Auto.AddressV6:
		return p.failAt(p.where("relay.address_v6"), "relay.address_v6",
			"auto: with an interfaces section, relayed addresses live on interfaces.external.address_v6: leave relay.address_v6 out")
	case r.Auto.Advertised && ifs != nil && ifs.External.Advertised.IsValid():
		return p.failAt(p.where("relay.advertised"), "relay.advertised",
			"auto: interfaces.external.advertised already sets the public address: keep one of them")
	}
	if cs := p.cfg.CredentialService; cs != nil && p.cfg.AdvertiseHost == "" && len(cs.Relays.Internet) == 0 &&
		(r.Auto.Address || r.Auto.Advertised) {
		return p.failAt(p.where("credential_service.relays", "credential_service"), "credential_service.relays.internet",
			"not set, and the relay addresses it would be derived from are auto (detected only when serve starts): set advertise_host or credential_service.relays.internet")
	}
	if len(r.DetectWith) > 0 && !r.Auto.Advertised {
		p.warn("relay.detect_with", "the STUN servers are asked only for relay.advertised: auto, which is not set: they are not used")
	}
	if _, set := p.at["relay.detect_timeout"]; set && !r.Auto.Any() {
		p.warn("relay.detect_timeout", "no relay address is auto: nothing is detected")
	}
	return nil
}

// MarshalJSON writes r with "auto" for the addresses detected at start,
// and detect_timeout only when something is detected.
func (r Relay) MarshalJSON() ([]byte, error) {
	out := struct {
		Address       autoAddr   `json:"address,omitzero"`
		AddressV6     autoAddr   `json:"address_v6,omitzero"`
		Advertised    autoAddr   `json:"advertised,omitzero"`
		AdvertisedV6  netip.Addr `json:"advertised_v6,omitzero"`
		PortMin       int        `json:"port_min"`
		PortMax       int        `json:"port_max"`
		DetectWith    []string   `json:"detect_with,omitempty"`
		DetectTimeout string     `json:"detect_timeout,omitempty"`
		TCP           bool       `json:"tcp"`
	}{
		Address:      autoAddr{r.Address, r.Auto.Address},
		AddressV6:    autoAddr{r.AddressV6, r.Auto.AddressV6},
		Advertised:   autoAddr{r.Advertised, r.Auto.Advertised},
		AdvertisedV6: r.AdvertisedV6,
		PortMin:      r.PortMin,
		PortMax:      r.PortMax,
		DetectWith:   r.DetectWith,
		TCP:          r.TCP,
	}
	if r.Auto.Any() || len(r.DetectWith) > 0 {
		out.DetectTimeout = formatDuration(r.DetectTimeout)
	}
	return json.Marshal(out)
}

// autoAddr is the JSON form of a relay address key that may be "auto".
type autoAddr struct {
	addr netip.Addr
	auto bool
}

// MarshalText writes "auto", or the address ("" for none).
func (a autoAddr) MarshalText() ([]byte, error) {
	if a.auto {
		return []byte(autoKeyword), nil
	}
	return a.addr.MarshalText()
}

// IsZero reports whether the key is unset (for omitzero).
func (a autoAddr) IsZero() bool { return !a.auto && !a.addr.IsValid() }

// Detected is what the edge found, when it started, for the relay address
// keys set to "auto".
type Detected struct {
	// For lists the keys the detection was for.
	For RelayAuto
	// Address is the host's IPv4 address, for relay.address.
	Address netip.Addr
	// AddressV6 is the host's IPv6 address, for relay.address_v6.
	AddressV6 netip.Addr
	// Advertised is the public IPv4 address in front of the relay
	// address, for relay.advertised; the zero Addr when there is no NAT
	// (the relay address itself is public).
	Advertised netip.Addr
}

// WithDetected returns a copy of c in which the relay keys set to "auto"
// that d was detected for hold d's addresses (they are no longer auto),
// checked as Parse checks written ones. The keys still auto, because d was
// not detected for them, are listed in pending. c is not changed. The
// errors wrap ErrInvalid.
func (c *Config) WithDetected(d Detected) (resolved *Config, pending []string, err error) {
	out := *c
	r := &out.Relay
	if r.Auto.Address && d.For.Address {
		r.Address, r.Auto.Address = d.Address, false
	}
	if r.Auto.AddressV6 && d.For.AddressV6 {
		r.AddressV6, r.Auto.AddressV6 = d.AddressV6, false
	}
	if r.Auto.Advertised && d.For.Advertised {
		r.Advertised, r.Auto.Advertised = d.Advertised, false
	}
	if err := out.checkDetected(c.Relay.Auto); err != nil {
		return nil, nil, err
	}
	return &out, r.Auto.Keys(), nil
}

// checkDetected applies to the relay addresses that were auto in was and
// are now set the checks Parse applies to written ones.
func (c *Config) checkDetected(was RelayAuto) error {
	r := c.Relay
	bad := func(key, format string, args ...any) error {
		return &Error{File: c.Source, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case was.Address && !r.Auto.Address && !usableRelayAddr(r.Address, false):
		return bad("relay.address", "detected %v: not a unicast IPv4 address that peers can send to", r.Address)
	case was.AddressV6 && !r.Auto.AddressV6 && !usableRelayAddr(r.AddressV6, true):
		return bad("relay.address_v6", "detected %v: not a global unicast IPv6 address that peers can send to", r.AddressV6)
	case was.Advertised && r.Advertised.IsValid() && (!r.Advertised.Is4() || !r.Advertised.IsGlobalUnicast()):
		return bad("relay.advertised", "detected %v: not a unicast IPv4 address that peers beyond the NAT can send to", r.Advertised)
	case r.Advertised.IsValid() && r.Advertised == r.Address:
		return bad("relay.advertised", "detected %v is relay.address itself: there is no NAT to advertise", r.Advertised)
	}
	for i, l := range c.Listeners {
		a, port := l.Address.Addr().Unmap(), int(l.Address.Port())
		detected := (was.Address && a == r.Address) || (was.AddressV6 && a == r.AddressV6)
		if detected && port >= r.PortMin && port <= r.PortMax {
			return bad(fmt.Sprintf("listeners[%d].address", i),
				"port %d lies in relay.ports %d-%d on the detected relay address %s", port, r.PortMin, r.PortMax, a)
		}
	}
	return nil
}

// usableRelayAddr reports whether a is a relay address of the family (IPv6
// when v6) that peers can send to: unicast, neither loopback nor
// link-local, without a zone.
func usableRelayAddr(a netip.Addr, v6 bool) bool {
	return a.IsValid() && a.Is6() == v6 && !a.Is4In6() && a.Zone() == "" && a.IsGlobalUnicast()
}
