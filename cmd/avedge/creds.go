package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
)

// credential is the JSON that "creds issue" prints: the TURN REST API shape
// (username, password, ttl in seconds, uris) plus the realm.
type credential struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	TTL      int64    `json:"ttl"`
	URIs     []string `json:"uris"`
	Realm    string   `json:"realm"`
}

func newCredsCmd() *cobra.Command {
	creds := &cobra.Command{
		Use:   "creds",
		Short: "Work with relay credentials",
	}
	var user, configPath string
	var ttl time.Duration
	issue := &cobra.Command{
		Use:   "issue --user NAME",
		Short: "Print a short-lived credential for the edge as JSON",
		Long: `Print a credential in the TURN REST API shape:
username "<unix-expiry>:<NAME>", password base64(HMAC-SHA1(secret, username)),
signed with the newest configured secret (the development secret without --config).
Without advertise_host, the URIs of listeners named by a relay address set
to "auto" are left out: serve detects it only when it starts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configPath)
			if err != nil {
				return err
			}
			c, err := issueCredential(cfg, user, ttl, time.Now())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(c)
		},
	}
	issue.Flags().StringVar(&user, "user", "", "identity the credential is for (required)")
	issue.Flags().DurationVar(&ttl, "ttl", 8*time.Hour, "how long the credential is valid")
	issue.Flags().StringVar(&configPath, "config", "", "configuration file (YAML); empty uses the development edge")
	_ = issue.MarkFlagRequired("user")
	creds.AddCommand(issue, newCredsRequestCmd())
	return creds
}

var errNoSecrets = errors.New("the configuration has no shared secrets (auth.secrets); static users need no credentials")

// issueCredential signs a credential for user valid for ttl from now.
func issueCredential(cfg *config.Config, user string, ttl time.Duration, now time.Time) (credential, error) {
	if len(cfg.Auth.Secrets) == 0 {
		return credential{}, errNoSecrets
	}
	if ttl <= 0 || ttl > cfg.Auth.MaxCredentialLifetime {
		return credential{}, fmt.Errorf("--ttl %v: must be above 0 and at most %v (auth.max_credential_lifetime)",
			ttl, cfg.Auth.MaxCredentialLifetime)
	}
	s := cfg.Auth.Secrets[0]
	username, password, err := auth.Issue(auth.Secret{ID: s.ID, Value: s.Value}, user, now.Add(ttl))
	if err != nil {
		return credential{}, err
	}
	return credential{
		Username: username,
		Password: password,
		TTL:      int64(ttl / time.Second),
		URIs:     turnURIs(cfg),
		Realm:    cfg.Realm,
	}, nil
}

// turnURIs lists the RFC 7065 URIs of the configured listeners: UDP, then
// plain TCP, then TLS (a "tcp" listener with a certificate serves both),
// the order in which clients should prefer them. A listener is named by
// advertise_host, else by the address clients reach it at
// (config.Config.ClientAddr); one that no client reaches, or that is named
// by an "auto" address (detected only when serve starts), is left out.
func turnURIs(cfg *config.Config) []string {
	uris := make([]string, 0, len(cfg.Listeners))
	seen := make(map[string]bool)
	add := func(l config.Listener, scheme, transport string) {
		host := cfg.AdvertiseHost
		if host == "" {
			ip, ok := cfg.ClientAddr(l.Address.Addr())
			if !ok {
				return
			}
			host = ip.String()
		}
		u := scheme + ":" + net.JoinHostPort(host, strconv.Itoa(int(l.Address.Port()))) + "?transport=" + transport
		if !seen[u] {
			seen[u] = true
			uris = append(uris, u)
		}
	}
	for _, l := range cfg.Listeners {
		if l.Protocol == "udp" && !l.STUNOnly {
			add(l, "turn", "udp")
		}
	}
	for _, l := range cfg.Listeners {
		if l.Plain() {
			add(l, "turn", "tcp")
		}
	}
	for _, l := range cfg.Listeners {
		if l.Stream() && l.TLS != nil {
			add(l, "turns", "tcp")
		}
	}
	return uris
}
