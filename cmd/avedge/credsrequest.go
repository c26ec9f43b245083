package main

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/mras"
	"github.com/avedge/avedge/internal/pki"
)

// devServiceURL is the development edge's credential service.
const devServiceURL = "https://127.0.0.1:5062"

var errRequestFlags = errors.New("--service, --cert and --key go together (leave all out for the development edge)")

func newCredsRequestCmd() *cobra.Command {
	var service, certFile, keyFile, caFile, identity, location string
	var ttl, timeout time.Duration
	var useMRAS bool
	cmd := &cobra.Command{
		Use:   "request --identity NAME [--service URL --cert FILE --key FILE [--ca FILE]] [--mras]",
		Short: "Ask a credential service for a credential, over mutual TLS",
		Long: `Ask a credential service for a relay credential on behalf of a user
(POST /v1/credentials) and print it as JSON.

The request is authenticated with the client certificate --cert and its key
--key, whose DNS name must be on the service's trusted_clients list; the
service's certificate is verified against --ca (default: the system's
roots).

With --mras it asks as a Lync or Skype for Business front end does: an
MRAS SIP SERVICE request ([MS-AVEDGEA]) on the same port, whose answer
holds the username and password base64-encoded, as those clients get them,
the lifetime in minutes (--ttl in whole minutes, at most 480) and the media
relays.

Without --service, --cert, --key and --ca it asks the development edge
(https://127.0.0.1:5062) with the development client certificate from the
state directory, which "avedge serve" creates on first start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := requestClientOptions(service, certFile, keyFile, caFile)
			if err != nil {
				return err
			}
			opts.Timeout = timeout
			client, err := credsvc.NewClient(opts)
			if err != nil {
				return err
			}
			var cred any
			if useMRAS {
				cred, err = mras.Ask(cmd.Context(), client, mras.Request{
					Identity: identity, Location: credsvc.Location(location), Duration: ttl})
			} else {
				req := credsvc.Request{Identity: identity, Location: credsvc.Location(location)}
				if ttl != 0 {
					req.TTL = ttl.String()
				}
				cred, err = client.Credentials(cmd.Context(), req)
			}
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(cred)
		},
	}
	f := cmd.Flags()
	f.StringVar(&service, "service", "", "base URL of the credential service, e.g. https://edge.internal:5062")
	f.StringVar(&certFile, "cert", "", "client certificate (PEM)")
	f.StringVar(&keyFile, "key", "", "private key of the client certificate (PEM)")
	f.StringVar(&caFile, "ca", "", "CA certificates that verify the service (PEM); default: the system's")
	f.StringVar(&identity, "identity", "", "user the credential is for: 1-128 printable characters (required)")
	f.StringVar(&location, "location", "", "where the user is: internet or intranet (default internet)")
	f.DurationVar(&ttl, "ttl", 0, "lifetime of the credential (default and maximum: the service's max_ttl)")
	f.DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for the service")
	f.BoolVar(&useMRAS, "mras", false, "ask with MRAS (SIP SERVICE), as a Lync / Skype for Business front end does")
	_ = cmd.MarkFlagRequired("identity")
	return cmd
}

// requestClientOptions returns the client options of the flags, or of the
// development edge when none is given.
func requestClientOptions(service, certFile, keyFile, caFile string) (credsvc.ClientOptions, error) {
	if service == "" && certFile == "" && keyFile == "" && caFile == "" {
		dir, err := config.DefaultStateDir()
		if err != nil {
			return credsvc.ClientOptions{}, err
		}
		f := pki.DevFiles(filepath.Join(dir, config.DevPKIDir))
		service, certFile, keyFile, caFile = devServiceURL, f.ClientCert, f.ClientKey, f.CACert
		opts, err := clientOptions(service, certFile, keyFile, caFile)
		if err != nil {
			return opts, fmt.Errorf("%w (the development edge creates its certificates on first start: run avedge serve)", err)
		}
		return opts, nil
	}
	if service == "" || certFile == "" || keyFile == "" {
		return credsvc.ClientOptions{}, errRequestFlags
	}
	return clientOptions(service, certFile, keyFile, caFile)
}

// clientOptions loads the client certificate and the CA file, if any.
func clientOptions(service, certFile, keyFile, caFile string) (credsvc.ClientOptions, error) {
	cert, err := pki.LoadKeyPair(certFile, keyFile)
	if err != nil {
		return credsvc.ClientOptions{}, err
	}
	var roots *x509.CertPool
	if caFile != "" {
		if roots, err = pki.LoadPool(caFile); err != nil {
			return credsvc.ClientOptions{}, err
		}
	}
	return credsvc.ClientOptions{Service: service, Certificate: cert, RootCAs: roots}, nil
}
