package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/firewall"
)

// firewallFormats are the outputs of avedge firewall, by --format value.
var firewallFormats = map[string]func(*config.Config) string{
	"table":     firewall.Table,
	"nftables":  firewall.NFTables,
	"iptables":  firewall.IPTables,
	"ip6tables": firewall.IP6Tables,
}

func newFirewallCmd() *cobra.Command {
	var file, format string
	cmd := &cobra.Command{
		Use:   "firewall --config FILE [--format table|nftables|iptables|ip6tables]",
		Short: "Print the port table and firewall rules of a configuration",
		Long: `Print, for the topology in the configuration file, the ports the firewall must
open: the client listeners on each interface, the relay ports on the external
interface (UDP, and TCP when a TCP or TLS listener allows RFC 6062 TCP
allocations), the credential service and the admin endpoints on the internal
interface, and the outbound relayed media. When the configuration names the
interfaces (interfaces.internal.name, interfaces.external.name), the rules
are bound to them too: a packet for an internal address arriving on the
external interface is not accepted.

  --format table      the port table for the firewall team (the default)
  --format nftables   a complete ruleset, table inet avedge (nft -f FILE)
  --format iptables   IPv4 rules for iptables-restore (filter table)
  --format ip6tables  IPv6 rules for ip6tables-restore (filter table)

The rulesets drop what they do not accept: add management access (such as
ssh) where they say so before loading them. See docs/firewall.md.

The rules name the relay address, so relay.address (or relay.address_v6) set
to "auto" is an error here: write the address that serve detects (its start
log says "detected relay.address"). relay.advertised: auto needs nothing: a
1:1 NAT has translated the public address before the host's firewall sees a
packet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			render, ok := firewallFormats[format]
			if !ok {
				return fmt.Errorf("--format %q: want table, nftables, iptables or ip6tables", format)
			}
			if file == "" {
				return fmt.Errorf("--config FILE is required")
			}
			cfg, err := config.Load(file)
			if err != nil {
				return err
			}
			if a := cfg.Relay.Auto; a.Address || a.AddressV6 {
				key := "relay.address"
				if !a.Address {
					key = "relay.address_v6"
				}
				return fmt.Errorf("%s: %s: auto: the firewall rules need the concrete relay address, which serve detects only when it starts: write it (serve logs it as \"detected %s\")",
					file, key, key)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), render(cfg))
			return err
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "configuration file (required)")
	cmd.Flags().StringVar(&format, "format", "table", "output: table, nftables, iptables or ip6tables")
	return cmd
}
