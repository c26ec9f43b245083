package haproxy

import (
	"fmt"
	"strings"
)

// Backend is where the frontend of SNIConfig sends the TLS connections
// that ask for one server name.
type Backend struct {
	// Name names the backend in the configuration.
	Name string
	// SNI is the server name it takes (compared without case); "" makes it
	// the default backend, for every other name.
	SNI string
	// Server is the backend's server, "ip:port".
	Server string
	// ProxyV2 makes HAProxy send the PROXY protocol v2 header to Server.
	ProxyV2 bool
	// Source, if set, is the address HAProxy connects to Server from.
	Source string
}

// SNIConfig is a configuration of HAProxy in TCP mode that listens on
// frontend ("ip:port") and routes the TLS connections there by the server
// name of their ClientHello to backends, TLS passing through untouched; a
// name no backend takes is refused unless one has SNI "". HAProxy logs to
// its standard error.
func SNIConfig(frontend string, backends ...Backend) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
  log stderr format raw local0 info
defaults
  mode tcp
  log global
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend tls
  bind %s
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
`, frontend)
	for _, be := range backends {
		if be.SNI == "" {
			fmt.Fprintf(&b, "  default_backend %s\n", be.Name)
		} else {
			fmt.Fprintf(&b, "  use_backend %s if { req.ssl_sni -i %s }\n", be.Name, be.SNI)
		}
	}
	for _, be := range backends {
		fmt.Fprintf(&b, "backend %s\n  server %s %s", be.Name, be.Name, be.Server)
		if be.ProxyV2 {
			b.WriteString(" send-proxy-v2")
		}
		if be.Source != "" {
			b.WriteString(" source " + be.Source)
		}
		b.WriteString("\n")
	}
	return b.String()
}
