package config

// The values of a listener's proxy_protocol.
const (
	// ProxyProtocolV1 and ProxyProtocolV2 require a PROXY protocol
	// header of that version on every connection.
	ProxyProtocolV1 = "v1"
	ProxyProtocolV2 = "v2"
	// ProxyProtocolOptional takes a header of either version, or none
	// (the connection's own address then stands).
	ProxyProtocolOptional = "optional"
)

// proxyProtocol decodes a listener's proxy_protocol.
func (p *parser) proxyProtocol(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	switch s {
	case ProxyProtocolV1, ProxyProtocolV2, ProxyProtocolOptional:
	default:
		return p.fail(e, "%q: unknown PROXY protocol mode (want %q, %q or %q)", s, ProxyProtocolV1, ProxyProtocolV2, ProxyProtocolOptional)
	}
	*dst = s
	return nil
}

// checkProxyProtocol checks the PROXY protocol keys of the listener l,
// decoded from e: only a tcp or tls listener takes proxy_protocol, which
// needs trusted_proxies, which needs it; trusting every address is
// warned of.
func (p *parser) checkProxyProtocol(e entry, seen map[string]entry, l Listener) error {
	pp, hasPP := seen["proxy_protocol"]
	tp, hasTP := seen["trusted_proxies"]
	switch {
	case hasPP && !l.Stream():
		return p.fail(pp, "a udp listener takes no proxy_protocol (the PROXY protocol is for tcp and tls listeners)")
	case hasTP && !hasPP:
		return p.fail(tp, "without proxy_protocol: set proxy_protocol, or remove trusted_proxies")
	case hasPP && len(l.TrustedProxies) == 0:
		key := child(e.path, "trusted_proxies")
		if hasTP {
			return p.fail(tp, "empty: list the addresses of the proxies that send the PROXY protocol header")
		}
		return p.failAt(e.at, key, "required with proxy_protocol: the addresses of the proxies that send the header")
	}
	for _, t := range l.TrustedProxies {
		if t.Bits() == 0 {
			p.warn(tp.path, "%s trusts every address: anyone who reaches %s can claim any client address", t, l.Address)
		}
	}
	return nil
}
