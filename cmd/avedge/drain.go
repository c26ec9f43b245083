package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// drainTimeout bounds the POST /drain request.
const drainTimeout = 10 * time.Second

// errDrainRefused is returned when the admin endpoint does not accept the
// drain.
var errDrainRefused = errors.New("drain refused")

func newDrainCmd() *cobra.Command {
	var adminURL string
	cmd := &cobra.Command{
		Use:   "drain",
		Short: "Drain a running edge through its admin endpoint (POST /drain)",
		Long: `Ask a running edge to drain, as SIGTERM does: its /readyz answers 503 at once,
new allocations are sent to a sibling edge (drain.alternate_servers) or
refused with 508, live allocations keep working, and the edge exits when the
last one has ended or after drain.timeout. The edge's configuration needs an
admin section; --admin is its address. The command returns at once and
prints the edge's answer.`,
		Example: "  avedge drain --admin http://127.0.0.1:9090",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			answer, err := postDrain(cmd.Context(), adminURL)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), answer)
			return nil
		},
	}
	cmd.Flags().StringVar(&adminURL, "admin", "", "base URL of the edge's admin endpoint, such as http://127.0.0.1:9090")
	_ = cmd.MarkFlagRequired("admin")
	return cmd
}

// postDrain sends POST /drain to the admin endpoint at base and returns
// the answer's body.
func postDrain(ctx context.Context, base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--admin %q: expected a URL such as http://127.0.0.1:9090", base)
	}
	u = u.JoinPath("drain")
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("drain: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("drain: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", fmt.Errorf("drain: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("%w: %s answered %s: %s", errDrainRefused, u, resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}
