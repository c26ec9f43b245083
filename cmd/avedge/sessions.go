package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/sessions"
)

// errBadUntil is returned for a --until that is neither a time nor a
// duration.
var errBadUntil = errors.New("invalid --until")

// connectFunc returns the client of the admin endpoint the flags name.
type connectFunc func() (*adminClient, error)

// newSessionsCmd builds "avedge sessions"; now is the clock that ages and
// --until durations are reckoned by.
func newSessionsCmd(now func() time.Time) *cobra.Command {
	var target adminFlags
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List, end and revoke the live sessions of a running edge through its admin endpoint",
		Long: `List the live sessions (allocations) of a running edge, end one, or revoke an
identity: its live sessions end and its credentials are refused until the
revocation is lifted or expires. The edge's configuration needs an admin
section: --admin is its address and --token-file the file holding its
admin token (admin.token_file), or --config names the edge's configuration
file, whose admin.listen and admin.token_file are used.`,
		Example: "  avedge sessions list --admin http://127.0.0.1:9090 --token-file /etc/avedge/admin.token --identity alice\n" +
			"  avedge sessions revoke alice --until 2h --config /etc/avedge/avedge.yaml\n" +
			"  avedge sessions lift alice --config /etc/avedge/avedge.yaml",
		Args: cobra.NoArgs,
	}
	target.add(cmd, true)
	connect := func() (*adminClient, error) {
		a, err := target.target()
		if err != nil {
			return nil, err
		}
		return newAdminClient(a), nil
	}
	cmd.AddCommand(newSessionsListCmd(connect, now), newSessionsEndCmd(connect), newSessionsRevokeCmd(connect, now),
		newSessionsRevocationsCmd(connect), newSessionsLiftCmd(connect))
	return cmd
}

func newSessionsListCmd(connect connectFunc, now func() time.Time) *cobra.Command {
	var (
		user, identity string
		asJSON         bool
	)
	cmd := &cobra.Command{
		Use:   "list [--user U] [--identity I] [--json]",
		Short: "List the live sessions (GET /sessions)",
		Long: `List the live sessions, oldest first, all of them or those of a username or
identity, as a table or with --json as the edge's JSON. TO PEER and TO
CLIENT are the bytes relayed each way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			q := url.Values{}
			if user != "" {
				q.Set("user", user)
			}
			if identity != "" {
				q.Set("identity", identity)
			}
			answer, err := c.do(cmd.Context(), adminCall{method: http.MethodGet, segments: []string{"sessions"}, query: q, limit: maxListAnswer})
			if err != nil {
				return err
			}
			var list struct {
				Sessions json.RawMessage `json:"sessions"`
			}
			if err := decodeAnswer(answer, &list); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), list.Sessions)
			}
			var ss []sessions.Session
			if err := decodeAnswer(list.Sessions, &ss); err != nil {
				return err
			}
			return printSessions(cmd.OutOrStdout(), ss, now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "only the sessions of this username")
	f.StringVar(&identity, "identity", "", "only the sessions of this identity")
	f.BoolVar(&asJSON, "json", false, "print the edge's JSON array instead of a table")
	return cmd
}

func newSessionsEndCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "end ID",
		Short: "End a live session (DELETE /sessions/ID)",
		Long: `End the live session ID (as "avedge sessions list" shows it): its relays close
and its record says it was ended by an operator. The client may allocate
again with a valid credential; revoke its identity to prevent that.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			id := args[0]
			answer, err := c.do(cmd.Context(), adminCall{
				method: http.MethodDelete, segments: []string{"sessions", id}, limit: maxAnswer,
				notFound: fmt.Errorf("%w %s", errNoSession, printable(id)),
			})
			if err != nil {
				return err
			}
			var ended struct {
				Ended string `json:"ended"`
			}
			if err := decodeAnswer(answer, &ended); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "ended session %s\n", printable(ended.Ended))
			return err
		},
	}
}

func newSessionsRevokeCmd(connect connectFunc, now func() time.Time) *cobra.Command {
	var until string
	cmd := &cobra.Command{
		Use:   "revoke IDENTITY [--until T]",
		Short: "Revoke an identity and end its live sessions (POST /revocations)",
		Long: `Revoke IDENTITY: its live sessions end at once, and its credentials are
refused until T (an RFC 3339 time such as 2030-01-02T15:04:05Z, or a
duration from now such as 2h), or without --until until "avedge sessions
lift" lifts the revocation. Whatever T says, a credential that may have been
issued before the revocation — one expiring within auth.max_credential_lifetime
(8h by default) of it — stays refused until its own expiry, so new short
credentials are accepted only once that window has passed too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			end, err := parseUntil(until, now())
			if err != nil {
				return err
			}
			c, err := connect()
			if err != nil {
				return err
			}
			req := struct {
				Identity string `json:"identity"`
				Until    string `json:"until,omitempty"`
			}{Identity: args[0]}
			if !end.IsZero() {
				req.Until = end.UTC().Format(time.RFC3339)
			}
			answer, err := c.do(cmd.Context(), adminCall{method: http.MethodPost, segments: []string{"revocations"}, body: req, limit: maxAnswer})
			if err != nil {
				return err
			}
			var revoked struct {
				Revocation sessions.Revocation `json:"revocation"`
				Ended      int                 `json:"ended_sessions"`
			}
			if err := decodeAnswer(answer, &revoked); err != nil {
				return err
			}
			noun := "sessions"
			if revoked.Ended == 1 {
				noun = "session"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked %s until %s; %d live %s ended\n",
				printable(revoked.Revocation.Identity), untilText(revoked.Revocation.Until), revoked.Ended, noun)
			return err
		},
	}
	cmd.Flags().StringVar(&until, "until", "", "refuse new credentials until this RFC 3339 time or for this duration (default: until lifted)")
	return cmd
}

// parseUntil parses --until: empty (zero: until lifted), an RFC 3339
// time, or a positive duration after now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%w %q: expected an RFC 3339 time such as 2030-01-02T15:04:05Z or a positive duration such as 2h", errBadUntil, s)
}

func newSessionsRevocationsCmd(connect connectFunc) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "revocations [--json]",
		Short: "List the revocations in force (GET /revocations)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			answer, err := c.do(cmd.Context(), adminCall{method: http.MethodGet, segments: []string{"revocations"}, limit: maxListAnswer})
			if err != nil {
				return err
			}
			var list struct {
				Revocations json.RawMessage `json:"revocations"`
			}
			if err := decodeAnswer(answer, &list); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), list.Revocations)
			}
			var rs []sessions.Revocation
			if err := decodeAnswer(list.Revocations, &rs); err != nil {
				return err
			}
			return printRevocations(cmd.OutOrStdout(), rs)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the edge's JSON array instead of a table")
	return cmd
}

func newSessionsLiftCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "lift IDENTITY",
		Short: "Lift the revocation of an identity (DELETE /revocations/IDENTITY)",
		Long: `Lift the revocation of IDENTITY: its credentials are accepted again, those
issued before the revocation included (on the other nodes of a pool once
they next read the revocations file).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			identity := args[0]
			answer, err := c.do(cmd.Context(), adminCall{
				method: http.MethodDelete, segments: []string{"revocations", identity}, limit: maxAnswer,
				notFound: fmt.Errorf("%w of %s", errNoRevocation, printable(identity)),
			})
			if err != nil {
				return err
			}
			var lifted struct {
				Lifted string `json:"lifted"`
			}
			if err := decodeAnswer(answer, &lifted); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "lifted the revocation of %s\n", printable(lifted.Lifted))
			return err
		},
	}
}

// decodeAnswer decodes the JSON answer into v.
func decodeAnswer(answer []byte, v any) error {
	if err := json.Unmarshal(answer, v); err != nil {
		return fmt.Errorf("%w: malformed answer: %w", errAdminAnswer, err)
	}
	return nil
}

// printJSON writes the JSON array raw indented; a missing array is an
// empty one.
func printJSON(w io.Writer, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("[]")
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("%w: malformed answer: %w", errAdminAnswer, err)
	}
	b.WriteByte('\n')
	_, err := b.WriteTo(w)
	return err
}
