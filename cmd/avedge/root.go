package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree writing to stdout and stderr.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "avedge",
		Short: "avedge is an A/V edge: a STUN/TURN media relay with a credential service",
		Long: `avedge relays audio, video and screen-sharing traffic between clients and peers
(STUN/TURN, RFC 8489 and RFC 8656) and issues the short-lived credentials that
clients use to reach it.

Start a development edge on loopback with "avedge serve", then ask its
credential service for a credential with "avedge creds request --identity alice"
(or sign one locally with "avedge creds issue --user alice").`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCmd(), newCredsCmd(), newPKICmd(), newVersionCmd(), newBenchCmd(), newProbeCmd(), newDrainCmd(), newSessionsCmd(time.Now), newFirewallCmd(), newConfigCmd())
	return root
}
