package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/config"
)

// Errors of the commands that use the admin endpoint.
var (
	// errNoAdmin is returned by "avedge drain --config" and "avedge
	// sessions --config" for a configuration without admin endpoints.
	errNoAdmin = errors.New("no admin endpoint")
	// errAdminToken: the admin endpoint refused the token (401).
	errAdminToken = errors.New("the admin endpoint refused the admin token")
	// errAdminRequest: the admin endpoint refused the request for what
	// it looked like (403 or 421), not for its token.
	errAdminRequest = errors.New("the admin endpoint refused the request")
)

// adminEndpoint is a running edge's admin endpoint, as the flags name it.
type adminEndpoint struct {
	// base is its base URL.
	base *url.URL
	// token is the admin token, sent as a bearer token.
	token []byte
}

// adminFlags are the flags that name an admin endpoint.
type adminFlags struct {
	adminURL, tokenFile, cfgPath string
}

// add adds the flags to fs of cmd: --admin with --token-file, or
// --config.
func (f *adminFlags) add(cmd *cobra.Command, persistent bool) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.StringVar(&f.adminURL, "admin", "", "base URL of the edge's admin endpoint, such as http://127.0.0.1:9090 (with --token-file)")
	fs.StringVar(&f.tokenFile, "token-file", "", "the file holding the edge's admin token (its admin.token_file), with --admin")
	fs.StringVar(&f.cfgPath, "config", "", "the edge's configuration file, instead of --admin and --token-file (its admin.listen and admin.token_file)")
	cmd.MarkFlagsMutuallyExclusive("admin", "config")
	cmd.MarkFlagsMutuallyExclusive("token-file", "config")
	cmd.MarkFlagsRequiredTogether("admin", "token-file")
	cmd.MarkFlagsOneRequired("admin", "config")
}

// target returns the admin endpoint the flags name: --admin and the token
// in --token-file, or the admin section of the configuration file
// --config.
func (f *adminFlags) target() (adminEndpoint, error) {
	adminURL := f.adminURL
	var token []byte
	if f.cfgPath != "" {
		cfg, err := config.Load(f.cfgPath)
		if err != nil {
			return adminEndpoint{}, err
		}
		if cfg.Admin == nil {
			return adminEndpoint{}, fmt.Errorf("%w: %s has no admin section", errNoAdmin, f.cfgPath)
		}
		adminURL, token = "http://"+cfg.Admin.Listen.String(), cfg.Admin.Token
	}
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return adminEndpoint{}, fmt.Errorf("--admin %q: expected a URL such as http://127.0.0.1:9090", adminURL)
	}
	if f.cfgPath == "" {
		if token, err = config.ReadAdminToken(f.tokenFile); err != nil {
			return adminEndpoint{}, fmt.Errorf("--token-file: %w", err)
		}
	}
	return adminEndpoint{base: u, token: token}, nil
}

// authorize puts the admin token into req.
func (a adminEndpoint) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+string(a.token))
}

// refused returns the error for an answer of the admin endpoint that
// refuses the request itself (401, 403 or 421), with msg, the reason it
// gave; nil for another answer.
func (a adminEndpoint) refused(code int, msg string) error {
	switch code {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w at %s: use the content of the edge's admin.token_file (a new token takes effect when the edge restarts): %s", errAdminToken, a.base.Redacted(), msg)
	case http.StatusMisdirectedRequest:
		return fmt.Errorf("%w at %s: address it by the IP address and port of its admin.listen, not a host name: %s", errAdminRequest, a.base.Redacted(), msg)
	case http.StatusForbidden:
		return fmt.Errorf("%w at %s: %s", errAdminRequest, a.base.Redacted(), msg)
	}
	return nil
}
