package config

import (
	"fmt"
	"net/netip"
	"slices"

	"go.yaml.in/yaml/v3"
)

// ServiceRelays are the relay addresses the credential service hands out,
// by the location of the client that will use them.
type ServiceRelays struct {
	// Internet is for clients on the internet: the external interface.
	Internet []ServiceRelay `json:"internet"`
	// Intranet is for clients on the corporate network: the internal
	// interface. It defaults to Internet.
	Intranet []ServiceRelay `json:"intranet"`
}

// ServiceRelay is one address where clients reach the relay; a port of 0
// is not offered.
type ServiceRelay struct {
	// Host is a host name or IP address.
	Host string `json:"host"`
	// UDPPort is the port of TURN over UDP.
	UDPPort int `json:"udp_port"`
	// TCPPort is the port of TURN over TCP.
	TCPPort int `json:"tcp_port"`
	// TLSPort is the port of TURN over TLS.
	TLSPort int `json:"tls_port"`
}

// serviceRelays decodes credential_service.relays.
func (p *parser) serviceRelays(e entry, dst *ServiceRelays) error {
	_, err := p.mapping(e, []field{
		{"internet", func(e entry) error { return p.serviceRelayList(e, &dst.Internet) }},
		{"intranet", func(e entry) error { return p.serviceRelayList(e, &dst.Intranet) }},
	})
	return err
}

// serviceRelayList decodes one relay (a mapping) or a list of them,
// refusing duplicates.
func (p *parser) serviceRelayList(e entry, dst *[]ServiceRelay) error {
	items := []entry{e}
	if v := resolve(e.val); v.Kind == yaml.SequenceNode {
		var err error
		if items, err = p.list(e); err != nil {
			return err
		}
	}
	for _, item := range items {
		r, err := p.serviceRelay(item)
		if err != nil {
			return err
		}
		if j := slices.Index(*dst, r); j >= 0 {
			return p.fail(item, "duplicate of %s[%d]", e.path, j)
		}
		*dst = append(*dst, r)
		p.at[item.path] = item
	}
	return nil
}

// serviceRelay decodes one relay address: a host and at least one port.
func (p *parser) serviceRelay(e entry) (ServiceRelay, error) {
	var r ServiceRelay
	port := func(dst *int) func(entry) error {
		return func(e entry) error {
			n, err := p.integer(e, 1, 65535)
			*dst = n
			return err
		}
	}
	seen, err := p.mapping(e, []field{
		{"host", func(e entry) error { return p.advertiseHost(e, &r.Host) }},
		{"udp_port", port(&r.UDPPort)},
		{"tcp_port", port(&r.TCPPort)},
		{"tls_port", port(&r.TLSPort)},
	})
	if err != nil {
		return ServiceRelay{}, err
	}
	if err := p.require(e, seen, "host"); err != nil {
		return ServiceRelay{}, err
	}
	if r.UDPPort == 0 && r.TCPPort == 0 && r.TLSPort == 0 {
		return ServiceRelay{}, p.fail(e, "at least one of udp_port, tcp_port or tls_port is required")
	}
	return r, nil
}

// finishServiceRelays defaults the relays to the listeners and warns about
// ports that no listener serves, about internet relays derived from
// addresses that are not public, and about intranet relays taken from the
// internet ones. Without interfaces the internet relays are all listeners
// (named as listenerRelays says) and the intranet relays copy them. With interfaces the internet relays are the
// external interface's listeners and the intranet relays the
// internal interface's listeners, or the internet ones when it has none.
func (p *parser) finishServiceRelays(cs *CredentialService) error {
	r := &cs.Relays
	if len(r.Internet) == 0 {
		if r.Internet = listenerRelays(p.cfg); len(r.Internet) == 0 {
			msg := "required: there is no listener to derive it from"
			if p.cfg.Interfaces != nil {
				msg = "required: there is no listener on the external interface to derive it from"
			}
			return p.failAt(p.where("credential_service.relays", "credential_service"), "credential_service.relays.internet", "%s", msg)
		}
		for _, sr := range r.Internet {
			if ip, err := netip.ParseAddr(sr.Host); err == nil && !isPublic(ip) {
				p.warn("credential_service.relays.internet",
					"not set, so derived from the listeners as %s, which is not a public address: internet callers would get an address they cannot reach; set credential_service.relays.internet or advertise_host",
					sr.Host)
			}
		}
	}
	if len(r.Intranet) == 0 {
		if r.Intranet = internalRelays(p.cfg); len(r.Intranet) == 0 {
			r.Intranet = slices.Clone(r.Internet)
			hosts := make([]string, len(r.Intranet))
			for i, sr := range r.Intranet {
				hosts[i] = sr.Host
			}
			p.warn("credential_service.relays.intranet",
				"not set, so intranet callers get the internet relay addresses %v; set it to the addresses of the internal interface",
				hosts)
		}
	}
	var udp, stream bool
	for _, l := range p.cfg.Listeners {
		if l.Protocol == "udp" {
			udp = true
		} else {
			stream = true
		}
	}
	for _, loc := range []struct {
		name   string
		relays []ServiceRelay
	}{{"internet", r.Internet}, {"intranet", r.Intranet}} {
		path := "credential_service.relays." + loc.name
		if _, written := p.at[path]; !written {
			continue
		}
		for i, sr := range loc.relays {
			key := path
			if _, ok := p.at[fmt.Sprintf("%s[%d]", path, i)]; ok {
				key = fmt.Sprintf("%s[%d]", path, i)
			}
			switch {
			case sr.UDPPort != 0 && !udp:
				p.warn(key, "udp_port %d: no UDP listener is configured; clients would try it in vain", sr.UDPPort)
			case (sr.TCPPort != 0 || sr.TLSPort != 0) && !stream:
				p.warn(key, "tcp_port/tls_port: no TCP or TLS listener is configured; clients would try them in vain")
			}
		}
	}
	return nil
}

// listenerRelays returns the internet relays derived from the listeners:
// one relay per host, with the first UDP port, the first plain TCP port and
// the first TLS port (a "tls" listener before a "tcp" one with TLS) served
// on it. Without interfaces every listener counts; with interfaces the
// external interface's listeners do. Each is named by advertise_host, else
// by the address clients reach it at (Config.ClientAddr).
func listenerRelays(c *Config) []ServiceRelay {
	internet, _ := sideRelays(c)
	return internet
}

// internalRelays returns the intranet relays derived from the listeners:
// with interfaces, those of the internal interface's listeners, named by
// their address (as listenerRelays does the internet ones); without, none.
func internalRelays(c *Config) []ServiceRelay {
	_, intranet := sideRelays(c)
	return intranet
}

// sideRelays returns the relays of listenerRelays and internalRelays.
func sideRelays(c *Config) (internet, intranet []ServiceRelay) {
	for _, l := range c.Listeners {
		if !l.STUNOnly {
			internet, intranet = addListenerRelay(c, l, l.Protocol, internet, intranet)
		}
	}
	for _, l := range c.Listeners {
		if l.Protocol == "tcp" && l.TLS != nil {
			internet, intranet = addListenerRelay(c, l, "tls", internet, intranet)
		}
	}
	return internet, intranet
}

// addListenerRelay sets the port of protocol proto ("udp", "tcp" or "tls")
// of listener l, unless set already, on the relay of l's host in the list
// l belongs to, adding the relay if needed (none for a listener no client
// reaches, see Config.ClientAddr); it returns both lists.
func addListenerRelay(c *Config, l Listener, proto string, internet, intranet []ServiceRelay) ([]ServiceRelay, []ServiceRelay) {
	ip := l.Address.Addr().Unmap()
	dst, host := &internet, c.AdvertiseHost
	switch ifs := c.Interfaces; {
	case ifs != nil && ifs.Internal.Has(ip):
		dst, host = &intranet, ip.WithZone("").String()
	case host != "":
	default:
		a, ok := c.ClientAddr(ip)
		if !ok {
			return internet, intranet
		}
		host = a.String()
	}
	i := slices.IndexFunc(*dst, func(r ServiceRelay) bool { return r.Host == host })
	if i < 0 {
		*dst = append(*dst, ServiceRelay{Host: host})
		i = len(*dst) - 1
	}
	r := &(*dst)[i]
	port := map[string]*int{"udp": &r.UDPPort, "tcp": &r.TCPPort, "tls": &r.TLSPort}[proto]
	if *port == 0 {
		*port = int(l.Address.Port())
	}
	return internet, intranet
}

// cgnat is the shared address space of RFC 6598, not reachable from the
// internet.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPublic reports whether ip may be reachable from the internet: not
// private (RFC 1918, RFC 4193), loopback, link-local, unspecified,
// multicast or shared (RFC 6598) address space.
func isPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !(ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || cgnat.Contains(ip))
}
