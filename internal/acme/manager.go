package acme

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
)

// Options configure a Manager.
type Options struct {
	// Domains are the DNS names of the certificate; the first is its
	// subject and names its file.
	Domains []string
	// Email is the account's contact address; empty for none.
	Email string
	// Directory is the URL of the CA's ACME directory.
	Directory string
	// Roots, if set, are the certificates trusted for the directory's
	// HTTPS; nil trusts the system's.
	Roots *x509.CertPool
	// HTTPListen, if valid, is where to answer HTTP-01 challenges.
	HTTPListen netip.AddrPort
	// Dir is the storage directory, such as <state>/acme; each CA gets a
	// subdirectory.
	Dir string
	// OnCertificate receives every certificate obtained or adopted (the
	// listener's server.CertStore.Set).
	OnCertificate func(tls.Certificate)
	// RetryMin and RetryMax bound the back-off after a failed attempt
	// (before jitter); zero: 5 minutes and 4 hours (Let's Encrypt counts
	// 5 failed validations per name and account an hour).
	RetryMin, RetryMax time.Duration
	// Logger receives issuance, renewal and failure records.
	Logger *slog.Logger
}

// Default back-off bounds after a failure.
const (
	defaultRetryMin = 5 * time.Minute
	defaultRetryMax = 4 * time.Hour
)

// Manager keeps a listener's certificate issued and renewed.
type Manager struct {
	opts   Options
	store  store
	client *acme.Client
	log    *slog.Logger

	// registered is set once the account exists at the CA.
	registered bool
	// current is the certificate served, nil before the first.
	current *tls.Certificate

	mu sync.Mutex
	// alpn holds the pending TLS-ALPN-01 certificates by domain.
	alpn map[string]*tls.Certificate
	// http holds the pending HTTP-01 responses by request path.
	http map[string]string

	httpLn  net.Listener // nil without HTTPListen
	httpSrv *http.Server
}

// New returns a Manager: it opens the storage directory, creating the
// account key on first use, hands a stored certificate that is still
// usable to OnCertificate, and binds HTTPListen. Nothing is asked of the
// CA before Run.
func New(opts Options) (*Manager, error) {
	if len(opts.Domains) == 0 || opts.Directory == "" || opts.Dir == "" || opts.OnCertificate == nil {
		return nil, fmt.Errorf("%w: domains, directory, storage directory and OnCertificate are required", ErrOptions)
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = defaultRetryMin
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(defaultRetryMax, opts.RetryMin)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("acme_directory", opts.Directory, "domains", opts.Domains)
	st, err := openStore(opts.Dir, opts.Directory, opts.Domains[0])
	if err != nil {
		return nil, err
	}
	key, err := st.accountKey()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opts.Roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: opts.Roots, MinVersion: tls.VersionTLS12}
	}
	m := &Manager{
		opts:  opts,
		store: st,
		log:   log,
		client: &acme.Client{Key: key, DirectoryURL: opts.Directory, UserAgent: "avedge",
			HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute}},
		alpn: make(map[string]*tls.Certificate),
		http: make(map[string]string),
	}
	if c, err := st.loadCert(opts.Domains, time.Now()); err == nil {
		m.adopt(c, "stored")
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.Warn("ignoring the stored certificate", "file", st.certPath, "err", err)
	}
	if opts.HTTPListen.IsValid() {
		if err := m.listenHTTP(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// adopt makes c the certificate served.
func (m *Manager) adopt(c tls.Certificate, how string) {
	m.current = &c
	m.log.Info("ACME certificate in use", "how", how, "serial", c.Leaf.SerialNumber.Text(16),
		"not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339), "file", m.store.certPath)
	m.opts.OnCertificate(c)
}

// Run obtains the certificate if there is none and renews it ahead of
// expiry until ctx is done, and serves HTTP-01 meanwhile. Failures are
// logged and retried; Run returns when ctx is done, having stopped the
// HTTP server.
func (m *Manager) Run(ctx context.Context) {
	if m.httpSrv != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := m.httpSrv.Serve(m.httpLn); err != nil && err != http.ErrServerClosed {
				m.log.Error("ACME HTTP-01 server stopped", "address", m.httpLn.Addr().String(), "err", err)
			}
		}()
		defer func() { m.httpSrv.Close(); <-done }()
	}
	failures := 0
	for {
		var wait time.Duration
		switch {
		case failures > 0:
			wait = backoff(failures, m.opts.RetryMin, m.opts.RetryMax, randDuration)
			m.log.Info("retrying the ACME certificate request", "in", wait.Round(time.Millisecond).String())
		case m.current != nil:
			wait = time.Until(renewAt(m.current.Leaf, randDuration))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err := m.renew(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			m.log.Error("ACME certificate request failed", "attempt", failures, "err", err)
			continue
		}
		failures = 0
	}
}

// renew adopts a certificate another node stored if it is not due yet,
// else obtains a new one and stores it.
func (m *Manager) renew(ctx context.Context) error {
	if c, err := m.store.loadCert(m.opts.Domains, time.Now()); err == nil &&
		(m.current == nil || !c.Leaf.Equal(m.current.Leaf)) && time.Now().Before(renewAt(c.Leaf, noJitter)) {
		m.adopt(c, "stored by another node")
		return nil
	}
	c, err := m.obtain(ctx)
	if err != nil {
		return err
	}
	if err := m.store.saveCert(c); err != nil {
		m.log.Error("ACME certificate obtained but not stored; serving it", "err", err)
	}
	how := "issued"
	if m.current != nil {
		how = "renewed"
	}
	m.adopt(c, how)
	return nil
}

// Close stops the HTTP-01 listener of a Manager that never ran; Run stops
// it itself.
func (m *Manager) Close() {
	if m.httpLn != nil {
		m.httpLn.Close()
	}
}
