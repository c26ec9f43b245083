package firewall

import (
	"fmt"
	"net/netip"
	"strings"
	"text/tabwriter"

	"github.com/avedge/avedge/internal/config"
)

// Table returns the port table of c: one aligned row per rule under a
// header row.
func Table(c *config.Config) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DIRECTION\tINTERFACE\tADDRESS\tPROTOCOL\tLOCAL PORTS\tREMOTE\tPURPOSE")
	for _, r := range Rules(c) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Direction, r.Label(), addrText(r.Local), r.Protocol, r.LocalPorts, remoteText(r.RemotePorts), r.Purpose)
	}
	// A strings.Builder never fails to write.
	_ = tw.Flush()
	return b.String()
}

// addrText names a local address for the table.
func addrText(a netip.Addr) string {
	switch {
	case a.IsUnspecified() && a.Is4():
		return "all IPv4"
	case a.IsUnspecified():
		return "all"
	}
	return a.String()
}

// remoteText names the remote side: any address, on ports when they are
// restricted.
func remoteText(p Ports) string {
	if p.Any() {
		return "any"
	}
	return "any, ports " + p.String()
}
