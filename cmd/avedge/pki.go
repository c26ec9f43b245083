package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
)

func newPKICmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pki",
		Short: "Create certificates for the credential service",
	}
	var out, clientName string
	var serverNames []string
	var force, newCA bool
	dev := &cobra.Command{
		Use:   "dev --out DIR",
		Short: "Write a development CA, a service certificate and a client certificate",
		Long: `Write a development PKI for the credential service to DIR (created with mode 0700):

  ca.crt                    the development CA (ECDSA P-256, 10 years)
  service.crt, service.key  a server certificate for the service (397 days)
  client.crt, client.key    a client certificate for --client-name (397 days)

The certificates are signed by this machine's development CA, the one the
development edge ("avedge serve" without --config) creates in its state
directory and trusts: the client certificate works against the development
edge, and an edge configured with these files trusts the development edge's
client. With --new-ca they are signed by a new, independent CA instead, and
its key is written too (ca.key).

Keys are written with mode 0600. Existing files are never overwritten
without --force. The output shows the credential_service settings that use
the files and the command that asks for a credential with them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := filepath.Abs(out)
			if err != nil {
				return err
			}
			state, err := config.DefaultStateDir()
			if err != nil {
				return err
			}
			statePKI := filepath.Join(state, config.DevPKIDir)
			if sameDir(dir, statePKI) {
				return fmt.Errorf("--out %s is the development edge's own PKI directory %s: choose another directory", out, statePKI)
			}
			now := time.Now()
			opts := pki.DevOptions{ServerNames: serverNames, ClientName: clientName, Now: now, Overwrite: force}
			signer := "a new CA"
			if !newCA {
				devFiles, err := pki.EnsureDev(statePKI, now)
				if err != nil {
					return err
				}
				if opts.CA, err = pki.LoadCA(devFiles.CACert, devFiles.CAKey); err != nil {
					return err
				}
				signer = "the development CA " + devFiles.CACert
			}
			f, err := pki.WriteDev(dir, opts)
			if err != nil {
				return err
			}
			return printPKI(cmd.OutOrStdout(), f, signer, clientNameOr(clientName))
		},
	}
	dev.Flags().StringVar(&out, "out", "", "directory to write the files to (required)")
	dev.Flags().StringSliceVar(&serverNames, "server-name", pki.DevServerNames, "DNS names and IP addresses of the service certificate")
	dev.Flags().StringVar(&clientName, "client-name", pki.DevClientName, "DNS name of the client certificate (put it on trusted_clients)")
	dev.Flags().BoolVar(&newCA, "new-ca", false, "sign with a new CA (written with its key) instead of the development CA")
	dev.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	_ = dev.MarkFlagRequired("out")
	cmd.AddCommand(dev)
	return cmd
}

// printPKI tells what was written, how to configure it and how to use it.
func printPKI(w io.Writer, f pki.Files, signer, clientName string) error {
	if _, err := fmt.Fprintf(w, "Wrote a development PKI signed by %s to %s:\n", signer, f.Dir); err != nil {
		return err
	}
	for _, l := range []struct{ what, path string }{
		{"CA", f.CACert}, {"CA key", f.CAKey}, {"service", f.ServerCert}, {"service key", f.ServerKey},
		{"client", f.ClientCert}, {"client key", f.ClientKey},
	} {
		if l.path != "" {
			if _, err := fmt.Fprintf(w, "  %-12s %s\n", l.what, l.path); err != nil {
				return err
			}
		}
	}
	_, err := fmt.Fprintf(w, `
Configuration (credential_service section):
  credential_service:
    listen: 127.0.0.1:5062
    cert_file: %s
    key_file: %s
    client_ca_file: %s
    trusted_clients: [%s]

Ask for a credential:
  avedge creds request --service https://127.0.0.1:5062 --cert %s --key %s --ca %s --identity alice
`, f.ServerCert, f.ServerKey, f.CACert, clientName, f.ClientCert, f.ClientKey, f.CACert)
	return err
}

// clientNameOr returns name, or the development client name when empty.
func clientNameOr(name string) string {
	if name == "" {
		return pki.DevClientName
	}
	return name
}

// sameDir reports whether the paths a and b name the same directory, with
// symbolic links resolved as far as the paths exist.
func sameDir(a, b string) bool {
	if ia, err := os.Stat(a); err == nil {
		if ib, err := os.Stat(b); err == nil {
			return os.SameFile(ia, ib)
		}
	}
	return resolve(a) == resolve(b)
}

// resolve returns the absolute path p with the symbolic links of its
// longest existing prefix resolved.
func resolve(p string) string {
	p, rest := filepath.Clean(p), ""
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest)
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}
