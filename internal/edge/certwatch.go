package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/server"
)

// certPoll is how often a running edge looks at the certificate files of
// its TLS listeners (watchCerts): a renewal by certbot, cert-manager or
// acme.sh is served within this long, without a signal.
const certPoll = 2 * time.Second

// listenerCertWarnBefore is how long before its expiry a TLS listener's
// certificate draws a warning in the log.
const listenerCertWarnBefore = 14 * 24 * time.Hour

// certTarget is a TLS listener whose certificate comes from files: where
// they are and the store its handshakes read.
type certTarget struct {
	files config.ListenerTLS
	store *server.CertStore
}

// certWatch follows the certificate files of the TLS listeners: when
// either file of a pair changes (by stat: another file, size or
// modification time, so a renamed-in file or a swapped symbolic link
// counts), it loads the pair and, if it is whole — both files unchanged
// while read, the key matching the certificate — serves it. A pair caught
// half-written is tried again at the next poll; one that does not load
// keeps the current certificate and is logged once. It also warns once per
// certificate when it comes within listenerCertWarnBefore of its expiry,
// and again when it has expired.
type certWatch struct {
	log  *slog.Logger
	seen map[netip.AddrPort]*certState
}

// certState is what certWatch last saw of a listener.
type certState struct {
	files     config.ListenerTLS
	cert, key os.FileInfo
	// statFailed: the files could not be read (logged once until they can).
	statFailed bool
	// warned is the serial number and expiry level last warned about.
	warned      []byte
	warnedLevel expiryLevel
}

// expiryLevel is how close a certificate is to its expiry.
type expiryLevel int

const (
	expiryFar expiryLevel = iota
	expirySoon
	expired
)

// newCertWatch returns a certWatch that logs to log.
func newCertWatch(log *slog.Logger) *certWatch {
	return &certWatch{log: log, seen: make(map[netip.AddrPort]*certState)}
}

// poll looks at every target once; now dates the expiry warnings.
func (w *certWatch) poll(targets map[netip.AddrPort]certTarget, now time.Time) {
	for addr, t := range targets {
		st := w.seen[addr]
		if st == nil {
			st = &certState{}
			w.seen[addr] = st
		}
		w.follow(addr, t, st)
		w.checkExpiry(addr, t, st, now)
	}
}

// follow loads t's files into its store if they changed since st.
func (w *certWatch) follow(addr netip.AddrPort, t certTarget, st *certState) {
	ci, ki, err := statPair(t.files)
	if err != nil {
		if !st.statFailed {
			w.log.Warn("cannot read a TLS listener's certificate files; serving the current certificate",
				"address", addr, "err", err)
			st.statFailed = true
		}
		return
	}
	st.statFailed = false
	if st.files == t.files && sameFile(st.cert, ci) && sameFile(st.key, ki) {
		return
	}
	cert, loadErr := pki.LoadKeyPair(t.files.CertFile, t.files.KeyFile)
	ci2, ki2, err := statPair(t.files)
	if err != nil || !sameFile(ci, ci2) || !sameFile(ki, ki2) {
		// Written to while read: try again at the next poll.
		return
	}
	st.files, st.cert, st.key = t.files, ci, ki
	if loadErr != nil {
		w.log.Warn("a TLS listener's certificate files changed but do not load (half-written, or the key does not match the certificate); serving the current certificate until they do",
			"address", addr, "err", loadErr)
		return
	}
	if cur, err := t.store.GetCertificate(nil); err == nil && sameChain(cur, &cert) {
		return
	}
	t.store.Set(cert)
	w.log.Info("a TLS listener's certificate changed on disk: new handshakes get it, established connections keep theirs",
		"address", addr, "cert_file", t.files.CertFile, "serial", cert.Leaf.SerialNumber.String(),
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
}

// checkExpiry warns once per certificate and level when the certificate t
// serves expires within listenerCertWarnBefore, or has expired.
func (w *certWatch) checkExpiry(addr netip.AddrPort, t certTarget, st *certState, now time.Time) {
	cur, err := t.store.GetCertificate(nil)
	if err != nil || cur.Leaf == nil {
		return
	}
	level := expiryFar
	switch notAfter := cur.Leaf.NotAfter; {
	case !now.Before(notAfter):
		level = expired
	case notAfter.Sub(now) < listenerCertWarnBefore:
		level = expirySoon
	}
	serial := cur.Leaf.SerialNumber.Bytes()
	if level == expiryFar || (level == st.warnedLevel && bytes.Equal(serial, st.warned)) {
		return
	}
	st.warned, st.warnedLevel = serial, level
	msg := "a TLS listener's certificate expires soon: renew it (the new files are picked up within seconds)"
	if level == expired {
		msg = "a TLS listener's certificate has expired: clients refuse it"
	}
	w.log.Warn(msg, "address", addr, "cert_file", st.files.CertFile,
		"not_after", cur.Leaf.NotAfter.UTC().Format(time.RFC3339))
}

// statPair stats both files of f.
func statPair(f config.ListenerTLS) (cert, key os.FileInfo, err error) {
	if cert, err = os.Stat(f.CertFile); err != nil {
		return nil, nil, err
	}
	if key, err = os.Stat(f.KeyFile); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// sameFile reports whether a and b describe the same file, unchanged.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// sameChain reports whether a and b hold the same certificate chain.
func sameChain(a, b *tls.Certificate) bool {
	if len(a.Certificate) != len(b.Certificate) {
		return false
	}
	for i := range a.Certificate {
		if !bytes.Equal(a.Certificate[i], b.Certificate[i]) {
			return false
		}
	}
	return true
}

// watchCerts polls the certificate files of the TLS listeners every
// interval until ctx is done (see certWatch).
func (e *Edge) watchCerts(ctx context.Context, interval time.Duration) {
	w := newCertWatch(e.log)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		w.poll(e.certTargets(), e.live.clock.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// certTargets returns the TLS listeners whose certificates come from
// files, with the files the configuration in force names.
func (e *Edge) certTargets() map[netip.AddrPort]certTarget {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[netip.AddrPort]certTarget, len(e.live.certFiles))
	for addr, f := range e.live.certFiles {
		if store := e.live.certs[addr]; store != nil {
			out[addr] = certTarget{files: f, store: store}
		}
	}
	return out
}
