package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// drainTimeout bounds the POST /drain request.
const drainTimeout = 10 * time.Second

// errDrainRefused is returned when the admin endpoint does not accept the
// drain.
var errDrainRefused = errors.New("drain refused")

// errDrainWait is returned when "avedge drain --wait" gives up.
var errDrainWait = errors.New("gave up waiting")

// drainPoll is how often "avedge drain --wait" asks whether the edge is
// still up.
const drainPoll = 500 * time.Millisecond

func newDrainCmd() *cobra.Command {
	var (
		target    adminFlags
		wait      bool
		waitLimit time.Duration
	)
	cmd := &cobra.Command{
		Use:   "drain",
		Short: "Drain a running edge through its admin endpoint (POST /drain)",
		Long: `Ask a running edge to drain, as SIGTERM does: its /readyz answers 503 at once,
new allocations are sent to a sibling edge (drain.alternate_servers) or
refused with 508, live allocations keep working, and the edge exits when the
last one has ended or after drain.timeout. The edge's configuration needs an
admin section: --admin is its address and --token-file the file holding its
admin token (admin.token_file), or --config names the edge's configuration
file, whose admin.listen and admin.token_file are used. The command prints
the edge's answer and returns at once, or with --wait when the edge has
exited (its admin endpoint no longer accepts connections): what a Kubernetes
preStop hook or a rolling upgrade script needs.

Unlike a SIGTERM, a drain requested here ends with exit status 75 (EX_TEMPFAIL)
of "avedge serve", which asks the service manager to start the edge again:
the shipped systemd unit restarts it (RestartForceExitStatus=75), so a drain
is a restart, e.g. onto a new binary. To stop an edge for good, stop its
service (systemctl stop avedge): that drains it too.`,
		Example: "  avedge drain --admin http://127.0.0.1:9090 --token-file /etc/avedge/admin.token\n" +
			"  avedge drain --config /etc/avedge/avedge.yaml --wait",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := target.target()
			if err != nil {
				return err
			}
			answer, err := postDrain(cmd.Context(), a)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), answer)
			if !wait {
				return nil
			}
			if err := waitExit(cmd.Context(), a.base, waitLimit); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "exited")
			return nil
		},
	}
	target.add(cmd, false)
	f := cmd.Flags()
	f.BoolVar(&wait, "wait", false, "wait until the edge has exited")
	f.DurationVar(&waitLimit, "wait-limit", 35*time.Minute, "give up waiting after this long (with --wait)")
	return cmd
}

// waitExit polls base's admin listener until it refuses the connection
// (the edge has exited), ctx ends or limit passes. Other dial errors (no
// route, a timeout, no file descriptor) say nothing of the edge: polling
// goes on.
func waitExit(ctx context.Context, base *url.URL, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", base.Host)
		switch {
		case err == nil:
			conn.Close()
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %v: the edge at %s is still up", errDrainWait, limit, base)
		case <-tick.C:
		}
	}
}

// postDrain sends POST /drain with the admin token to the admin endpoint a
// and returns the answer's body.
func postDrain(ctx context.Context, a adminEndpoint) (string, error) {
	u := a.base.JoinPath("drain")
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("drain: %w", err)
	}
	a.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("drain: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", fmt.Errorf("drain: reading the answer: %w", err)
	}
	msg := printable(strings.TrimSpace(string(body)))
	if err := a.refused(resp.StatusCode, msg); err != nil {
		return "", fmt.Errorf("%w: %w", errDrainRefused, err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("%w: %s answered %s: %s", errDrainRefused, u.Redacted(), resp.Status, msg)
	}
	return string(body), nil
}
