package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/probe"
)

// Exit statuses of "avedge probe".
const (
	exitChecksFailed = 1
	exitUsage        = 2
)

// exitError is an error that asks for a particular exit status.
type exitError struct {
	code int
	err  error
}

// Error is the wrapped error's text.
func (e *exitError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the process exit status the error calls for.
func (e *exitError) ExitCode() int { return e.code }

// usageError marks err as a usage error (exit status 2).
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// probeFlags are the flags of "avedge probe".
type probeFlags struct {
	user, password            string
	passwordFile              string
	credentialsFrom, identity string
	certFile, keyFile, caFile string
	peerAddress               string
	json                      bool
	timeout                   time.Duration
}

func newProbeCmd() *cobra.Command {
	var f probeFlags
	cmd := &cobra.Command{
		Use:   "probe URI... [--user U --password P | --credentials-from URL [--cert F --key F]] [--ca F] [--json]",
		Short: "Check from a client's network that an edge works, and say what to fix",
		Long: `Probe an edge as a WebRTC or SIP client would, from the network this command
runs on, and print a report with a remedy for each failure.

URIs are TURN and STUN URIs (RFC 7065, RFC 7064): turn:host[:port][?transport=udp|tcp],
turns:host[:port][?transport=tcp] and stun:host[:port]. A bare turn:host stands for
the ports of an A/V edge: UDP 3478, TCP 443 and TLS 443; any other URI tests
exactly what it names (turns: defaults to port 5349, as in RFC 7065).

The checks: DNS, a STUN Binding over UDP, TCP reachability, the TLS certificate
(names, chain, expiry), an authenticated Allocate over UDP, TCP and TLS, a
permission and 5 round trips through each relay to a probe peer on this
machine, the relay port's reachability from the peer, signs of NAT in front of
the edge, and the credential's expiry against this machine's clock.

The credential comes from --user and --password, or from --credentials-from:
an HTTPS endpoint answering {"username","password","ttl","uris"} (GET), or,
with --cert and --key, avedge's credential service (POST /v1/credentials over
mutual TLS, like "avedge creds request"). Without URIs, the URIs that come
with the credential are probed.

Exit status: 0 when no check failed, 1 when one did, 2 for usage errors.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(args)
			if err != nil {
				return usageError(err)
			}
			report, err := probe.Run(cmd.Context(), opts)
			if errors.Is(err, probe.ErrBadOptions) || errors.Is(err, probe.ErrBadURI) {
				return usageError(err)
			} else if err != nil {
				return err
			}
			if f.json {
				err = report.WriteJSON(cmd.OutOrStdout())
			} else {
				err = report.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if !report.OK() {
				return &exitError{code: exitChecksFailed, err: fmt.Errorf("probe: %d of %d checks failed",
					report.Count(probe.Fail), len(report.Checks))}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	fl := cmd.Flags()
	fl.StringVar(&f.user, "user", "", "username of the credential (with --password)")
	fl.StringVar(&f.password, "password", "", "password of the credential (with --user; other users of this machine can see it in ps: prefer --password-file)")
	fl.StringVar(&f.passwordFile, "password-file", "", "file whose first line is the password of the credential (with --user)")
	fl.StringVar(&f.credentialsFrom, "credentials-from", "", "HTTPS URL that hands out a credential as JSON")
	fl.StringVar(&f.certFile, "cert", "", "client certificate (PEM) for a credential service with mutual TLS")
	fl.StringVar(&f.keyFile, "key", "", "private key of --cert (PEM)")
	fl.StringVar(&f.caFile, "ca", "", "CA certificates (PEM) that verify the edge and the credential endpoint, added to the system's")
	fl.StringVar(&f.identity, "identity", "avedge-probe", "user the credential service is asked a credential for (with --cert)")
	fl.StringVar(&f.peerAddress, "peer-address", "", "IP address of the probe peer, and of its permission (default: this machine's address towards the edge)")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Second, "bound of each network operation")
	return cmd
}

// options checks the flags and arguments and returns the probe's options.
func (f *probeFlags) options(uris []string) (probe.Options, error) {
	opts := probe.Options{URIs: uris, Timeout: f.timeout}
	if f.passwordFile != "" {
		if f.password != "" {
			return opts, errors.New("give --password or --password-file, not both")
		}
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return opts, fmt.Errorf("--password-file: %w", err)
		}
		f.password, _, _ = strings.Cut(string(b), "\n")
		f.password = strings.TrimSuffix(f.password, "\r")
	}
	switch {
	case (f.user == "") != (f.password == ""):
		return opts, errors.New("--user and --password go together")
	case f.user != "" && f.credentialsFrom != "":
		return opts, errors.New("give --user and --password, or --credentials-from, not both")
	case (f.certFile == "") != (f.keyFile == ""):
		return opts, errors.New("--cert and --key go together")
	case f.certFile != "" && f.credentialsFrom == "":
		return opts, errors.New("--cert and --key authenticate to --credentials-from: give it too")
	case len(uris) == 0 && f.credentialsFrom == "":
		return opts, errors.New("name the edge to probe, such as turn:edge.example.com")
	case f.timeout <= 0:
		return opts, fmt.Errorf("--timeout %v: must be positive", f.timeout)
	}
	if f.peerAddress != "" {
		a, err := netip.ParseAddr(f.peerAddress)
		if err != nil {
			return opts, fmt.Errorf("--peer-address %q: not an IP address", f.peerAddress)
		}
		opts.PeerAddress = a.Unmap()
	}
	roots, err := systemRootsWith(f.caFile)
	if err != nil {
		return opts, err
	}
	opts.RootCAs = roots
	switch {
	case f.user != "":
		opts.Credentials = probe.StaticCredential{Username: f.user, Password: f.password}
	case f.certFile != "":
		src, err := f.serviceCredential()
		if err != nil {
			return opts, err
		}
		opts.Credentials = src
	case f.credentialsFrom != "":
		opts.Credentials = probe.HTTPCredential{URL: f.credentialsFrom, RootCAs: roots, Timeout: f.timeout}
	}
	return opts, nil
}

// serviceCredential is the credential service client of --credentials-from
// with --cert, --key and --ca, set up as "creds request" does. The URL is
// the service's base URL; a trailing /v1/credentials is taken off.
func (f *probeFlags) serviceCredential() (probe.ServiceCredential, error) {
	service := strings.TrimSuffix(strings.TrimSuffix(f.credentialsFrom, "/"), credsvc.CredentialsPath)
	if _, err := url.Parse(service); err != nil {
		return probe.ServiceCredential{}, fmt.Errorf("--credentials-from: %w", err)
	}
	opts, err := clientOptions(service, f.certFile, f.keyFile, f.caFile)
	if err != nil {
		return probe.ServiceCredential{}, err
	}
	opts.Timeout = f.timeout
	client, err := credsvc.NewClient(opts)
	if err != nil {
		return probe.ServiceCredential{}, err
	}
	return probe.ServiceCredential{Client: client, Service: service, Identity: f.identity}, nil
}

// systemRootsWith returns the system's roots plus the certificates of
// caFile; nil (the system's) without a file.
func systemRootsWith(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	certs, err := pki.LoadCertificates(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
