package config

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/avedge/avedge/internal/pki"
)

// Listener is a client-facing socket.
type Listener struct {
	// Protocol is "udp", "tcp" (TURN over TCP, and over TLS as well when
	// TLS is set: the first byte of a connection tells them apart) or
	// "tls" (TURN over TLS only, which needs TLS).
	Protocol string `json:"protocol"`
	// Address is the local address to bind, such as 0.0.0.0:3478 or
	// [::]:3478.
	Address netip.AddrPort `json:"address"`
	// TLS is the certificate and TLS policy of a "tcp" or "tls" listener;
	// nil for none.
	TLS *ListenerTLS `json:"tls,omitempty"`
	// RedirectTo, on a "udp" listener, makes it a front listener: it
	// answers authenticated Allocates with 300 Try Alternate naming this
	// address, another UDP listener of the edge, so that clients that
	// reached the edge through a load balancer's virtual address go on
	// with the edge's own address. Invalid: a normal listener.
	RedirectTo netip.AddrPort `json:"redirect_to,omitzero"`
	// ProxyProtocol, on a "tcp" or "tls" listener, puts it behind
	// proxies that open each connection with a PROXY protocol header
	// naming the client: ProxyProtocolV1, ProxyProtocolV2 or
	// ProxyProtocolOptional; "" for none. See docs/proxy-protocol.md.
	ProxyProtocol string `json:"proxy_protocol,omitempty"`
	// TrustedProxies are the addresses of those proxies, required with
	// ProxyProtocol: a connection from elsewhere is closed at once.
	TrustedProxies []netip.Prefix `json:"trusted_proxies,omitempty"`
	// STUNOnly, on a "udp" listener (the key "turn: false"), answers STUN
	// Binding requests only: TURN requests get 400, as any method a STUN
	// server does not know (coturn's stun-only, per listener).
	STUNOnly bool `json:"stun_only,omitzero" key:"turn"`
}

// ListenerTLS is the certificate of a TLS listener — files reloaded on
// SIGHUP, or obtained and renewed by ACME — and its TLS policy.
type ListenerTLS struct {
	// CertFile and KeyFile hold the certificate (chain) and its private
	// key, PEM-encoded; both empty with ACME.
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
	// MinVersion is the oldest TLS version accepted, "1.2" or "1.3"; empty
	// is "1.2".
	MinVersion string `json:"min_version,omitempty"`
	// ACME, if set, obtains the certificate from an ACME CA instead of
	// CertFile and KeyFile.
	ACME *ACME `json:"acme,omitempty"`
}

// TLS versions of tls.min_version.
const (
	TLS12 = "1.2"
	TLS13 = "1.3"
)

// Stream reports whether l listens on TCP (protocol "tcp" or "tls").
func (l Listener) Stream() bool { return l.Protocol != "udp" }

// Plain reports whether l serves TURN over plain TCP.
func (l Listener) Plain() bool { return l.Protocol == "tcp" }

// listeners decodes the listeners list, refusing duplicates.
func (p *parser) listeners(e entry, dst *[]Listener) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	out := make([]Listener, 0, len(items))
	for _, item := range items {
		l, err := p.listener(item)
		if err != nil {
			return err
		}
		if j := slices.IndexFunc(out, func(o Listener) bool { return o.Address == l.Address && o.Stream() == l.Stream() }); j >= 0 {
			return p.fail(item, "duplicate of listeners[%d] (%s %s)", j, l.Protocol, l.Address)
		}
		out = append(out, l)
		p.at[item.path] = item
	}
	*dst = out
	return nil
}

// listener decodes one listener.
func (p *parser) listener(e entry) (Listener, error) {
	var l Listener
	seen, err := p.mapping(e, []field{
		{"protocol", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			switch s {
			case "udp", "tcp", "tls":
			default:
				return p.fail(e, "%q: unknown protocol (want \"udp\", \"tcp\" or \"tls\")", s)
			}
			l.Protocol = s
			return nil
		}},
		{"address", func(e entry) error {
			s, err := p.str(e)
			if err != nil {
				return err
			}
			ap, err := netip.ParseAddrPort(s)
			if err != nil {
				return p.fail(e, "%q: not an IP:port address (write IPv6 as \"[::]:3478\")", s)
			}
			if ap.Port() == 0 {
				return p.fail(e, "%q: port must be between 1 and 65535", s)
			}
			l.Address = ap
			return nil
		}},
		{"tls", func(e entry) error {
			t, err := p.listenerTLS(e)
			l.TLS = t
			return err
		}},
		{"redirect_to", func(e entry) error {
			ap, err := p.serverAddr(e)
			l.RedirectTo = ap
			return err
		}},
		{"proxy_protocol", func(e entry) error { return p.proxyProtocol(e, &l.ProxyProtocol) }},
		{"turn", func(e entry) error {
			b, err := p.boolean(e)
			l.STUNOnly = !b
			return err
		}},
		{"trusted_proxies", func(e entry) error { return p.prefixes(e, &l.TrustedProxies) }},
	})
	if err != nil {
		return Listener{}, err
	}
	if err := p.require(e, seen, "protocol", "address"); err != nil {
		return Listener{}, err
	}
	switch {
	case l.Protocol == "udp" && l.TLS != nil:
		return Listener{}, p.fail(seen["tls"], "a udp listener takes no tls (use protocol tcp or tls)")
	case l.Protocol == "tls" && l.TLS == nil:
		return Listener{}, p.fail(e, "protocol tls needs tls: {cert_file, key_file} or tls: {acme: {domains: [...]}}")
	case l.RedirectTo.IsValid() && l.Protocol != "udp":
		return Listener{}, p.fail(seen["redirect_to"], "only a udp listener redirects")
	case l.STUNOnly && l.Protocol != "udp":
		return Listener{}, p.fail(seen["turn"], "turn: false (STUN only) is for udp listeners")
	case l.STUNOnly && l.RedirectTo.IsValid():
		return Listener{}, p.fail(seen["turn"], "a STUN-only listener (turn: false) takes no Allocates to redirect")
	}
	if err := p.checkProxyProtocol(e, seen, l); err != nil {
		return Listener{}, err
	}
	return l, nil
}

// listenerTLS decodes a listener's tls section: a server certificate and
// its key, which must load and match, or an acme section instead; and the
// oldest TLS version accepted.
func (p *parser) listenerTLS(e entry) (*ListenerTLS, error) {
	t := new(ListenerTLS)
	seen, err := p.mapping(e, []field{
		{"cert_file", func(e entry) error {
			if err := p.pemFile(e, &t.CertFile); err != nil {
				return err
			}
			if _, err := pki.LoadCertificates(t.CertFile); err != nil {
				return p.fail(e, "%s", pkiReason(err))
			}
			return nil
		}},
		{"key_file", func(e entry) error { return p.keyFile(e, &t.KeyFile) }},
		{"min_version", func(e entry) error { return p.tlsVersion(e, &t.MinVersion) }},
		{"acme", func(e entry) error {
			a, err := p.acme(e)
			t.ACME = a
			return err
		}},
	}, [2]string{"acme", "cert_file"}, [2]string{"acme", "key_file"})
	if err != nil {
		return nil, err
	}
	if t.ACME != nil {
		return t, nil
	}
	if err := p.require(e, seen, "cert_file", "key_file"); err != nil {
		return nil, err
	}
	if err := p.serverKeyPair(seen["cert_file"], seen["key_file"], t.CertFile, t.KeyFile); err != nil {
		return nil, err
	}
	return t, nil
}

// tlsVersion decodes a TLS version, "1.2" or "1.3", quoted or not.
func (p *parser) tlsVersion(e entry, dst *string) error {
	v, err := p.scalar(e, `"1.2" or "1.3"`)
	if err != nil {
		return err
	}
	switch t := v.ShortTag(); {
	case (t == "!!str" || t == "!!float") && (v.Value == TLS12 || v.Value == TLS13):
		*dst = v.Value
		return nil
	}
	return p.fail(e, "%q: must be \"1.2\" or \"1.3\"", v.Value)
}

// finishListeners requires at least one listener, and that a front
// listener's redirect_to names another UDP listener of this edge that is
// not a front listener itself: its address, or an address on the port of
// one that binds the unspecified address of the family.
func (p *parser) finishListeners() error {
	ls := p.cfg.Listeners
	if len(ls) == 0 {
		return p.failAt(p.where("listeners"), "listeners", "at least one listener is required")
	}
	if err := p.finishACMEListeners(); err != nil {
		return err
	}
	for i, l := range ls {
		if !l.RedirectTo.IsValid() {
			continue
		}
		to := l.RedirectTo
		if !slices.ContainsFunc(ls, func(o Listener) bool {
			a := o.Address.Addr()
			return o.Protocol == "udp" && !o.RedirectTo.IsValid() && !o.STUNOnly && o.Address.Port() == to.Port() &&
				(a == to.Addr() || (a.IsUnspecified() && a.Is4() == to.Addr().Is4()))
		}) {
			key := fmt.Sprintf("listeners[%d].redirect_to", i)
			return p.failAt(p.where(key), key, "%s: not the address of another udp listener of this edge (a front listener sends clients to the edge's own address)", to)
		}
	}
	return nil
}
