package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

const (
	// DevClientName is the DNS name of the development client
	// certificate, the one name the development edge trusts.
	DevClientName = "dev-client.avedge.local"
	// devCAName is the development CA's common name.
	devCAName = "avedge development CA"
	// CAValidity is how long a development CA is valid.
	CAValidity = 10 * 365 * 24 * time.Hour
	// LeafValidity is how long development server and client certificates
	// are valid: 397 days, within what browsers and Apple platforms accept
	// for server certificates.
	LeafValidity = 397 * 24 * time.Hour
	// RenewBefore is how long before expiry EnsureDev renews a certificate.
	RenewBefore = 30 * 24 * time.Hour
	// backdate starts validity periods an hour early, so that a peer whose
	// clock is slightly behind accepts a certificate made a moment ago.
	backdate = time.Hour
)

// DevServerNames are the names of the development server certificate: the
// credential service on loopback.
var DevServerNames = []string{"localhost", "127.0.0.1", "::1"}

// DevOptions configure a development PKI.
type DevOptions struct {
	// ServerNames are the server certificate's names (DNS names or IP
	// addresses); empty means DevServerNames.
	ServerNames []string
	// ClientName is the client certificate's DNS name; empty means
	// DevClientName.
	ClientName string
	// Now is the start of the validity periods.
	Now time.Time
	// CA, if set, signs the certificates: WriteDev writes its certificate
	// but not its key. Nil creates a new CA, key included.
	CA *CA
	// Overwrite replaces existing files; otherwise WriteDev fails with
	// ErrExists and writes nothing.
	Overwrite bool
}

// WriteDev writes a development PKI to dir (created with mode 0700 if
// missing): a CA certificate, a server certificate for the credential
// service and a client certificate, each with its key, and the CA's key
// when it is a new one (keys 0600, certificates 0644). With opts.CA set,
// the returned Files has no CAKey.
func WriteDev(dir string, opts DevOptions) (Files, error) {
	f := DevFiles(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("pki: %w", err)
	}
	if !opts.Overwrite {
		for _, p := range f.all() {
			if _, err := os.Lstat(p); err == nil {
				return Files{}, fmt.Errorf("%w: %s", ErrExists, p)
			}
		}
	}
	content, err := newDev(f, opts)
	if err != nil {
		return Files{}, err
	}
	write := writeNew
	if opts.Overwrite {
		write = writeReplace
	}
	for _, c := range content {
		if err := write(c); err != nil {
			return Files{}, err
		}
	}
	if opts.CA != nil {
		// A CA key left from an earlier run would not match the certificate.
		if err := os.Remove(f.CAKey); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Files{}, fmt.Errorf("pki: %w", err)
		}
		f.CAKey = ""
	}
	return f, nil
}

// EnsureDev returns the development PKI in dir with the default names,
// creating it on first use and renewing certificates that expire within
// RenewBefore of now (the leaf certificates with the existing CA while it
// stays valid, so clients that trust it keep working). Only missing or
// expiring files are made anew: a file that cannot be read (for example
// EACCES) or parsed is an error, and so are keys that group or other users
// may access (ErrInsecureKey). Concurrent uses, also by several processes,
// take turns on a lock file in dir, so that one never mixes its files with
// another's.
func EnsureDev(dir string, now time.Time) (Files, error) {
	f := DevFiles(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("pki: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return Files{}, err
	}
	defer unlock()
	st, err := inspect(f, now)
	if err != nil || st == devOK {
		return f, err
	}
	opts := DevOptions{Now: now}
	var content []file
	if st == devRenewLeaves {
		ca, err := LoadCA(f.CACert, f.CAKey)
		if err != nil {
			return Files{}, err
		}
		content, err = devLeaves(f, ca, opts)
		if err != nil {
			return Files{}, err
		}
	} else if content, err = newDev(f, opts); err != nil {
		return Files{}, err
	}
	// Keys first: a reader that does not take the lock sees, in between, a
	// new key with an old certificate, which fails to load, rather than a
	// silently wrong pair.
	slices.SortStableFunc(content, func(a, b file) int { return int(a.mode) - int(b.mode) })
	for _, c := range content {
		if err := writeReplace(c); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

// devState is what EnsureDev must do.
type devState int

const (
	devOK devState = iota
	devRenewLeaves
	devRecreate
)

// inspect decides whether the development PKI f is usable at now, needs new
// leaf certificates or a new CA. Missing files and certificates near their
// expiry call for new ones; any other failure to read or parse a file is
// an error, so that a PKI that cannot be read now (permissions, a damaged
// file) is never silently replaced.
func inspect(f Files, now time.Time) (devState, error) {
	for _, k := range f.keys() {
		if err := checkKeyMode(k); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
	}
	ca, err := LoadCA(f.CACert, f.CAKey)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return devRecreate, nil
	case err != nil:
		return 0, err
	case ca.Cert.NotAfter.Before(now.Add(RenewBefore)) || now.Before(ca.Cert.NotBefore):
		return devRecreate, nil
	}
	for _, leaf := range []struct {
		cert, key string
		usage     x509.ExtKeyUsage
	}{
		{f.ServerCert, f.ServerKey, x509.ExtKeyUsageServerAuth},
		{f.ClientCert, f.ClientKey, x509.ExtKeyUsageClientAuth},
	} {
		pair, err := LoadKeyPair(leaf.cert, leaf.key)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return devRenewLeaves, nil
		case err != nil:
			return 0, err
		case pair.Leaf.NotAfter.Before(now.Add(RenewBefore)):
			return devRenewLeaves, nil
		}
		// A leaf of another CA (the CA was made anew) is issued again.
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{
			Roots: ca.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{leaf.usage},
		}); err != nil {
			return devRenewLeaves, nil
		}
	}
	return devOK, nil
}

// newDev returns the content of a development PKI at f: signed by
// opts.CA, or by a new CA whose key it includes.
func newDev(f Files, opts DevOptions) ([]file, error) {
	if opts.CA != nil {
		leaves, err := devLeaves(f, opts.CA, opts)
		if err != nil {
			return nil, err
		}
		return append([]file{{f.CACert, EncodeCertificate(opts.CA.Cert), 0o644}}, leaves...), nil
	}
	start := opts.Now.Add(-backdate)
	ca, err := NewCA(devCAName, start, opts.Now.Add(CAValidity))
	if err != nil {
		return nil, err
	}
	caKey, err := EncodeKey(ca.Key)
	if err != nil {
		return nil, err
	}
	leaves, err := devLeaves(f, ca, opts)
	if err != nil {
		return nil, err
	}
	return append([]file{
		{f.CACert, EncodeCertificate(ca.Cert), 0o644},
		{f.CAKey, caKey, 0o600},
	}, leaves...), nil
}

// devLeaves issues the server and client certificates of a development
// PKI at f with ca.
func devLeaves(f Files, ca *CA, opts DevOptions) ([]file, error) {
	start, end := opts.Now.Add(-backdate), opts.Now.Add(LeafValidity)
	if start.Before(ca.Cert.NotBefore) {
		start = ca.Cert.NotBefore
	}
	if end.After(ca.Cert.NotAfter) {
		end = ca.Cert.NotAfter
	}
	serverNames := opts.ServerNames
	if len(serverNames) == 0 {
		serverNames = DevServerNames
	}
	clientName := opts.ClientName
	if clientName == "" {
		clientName = DevClientName
	}
	var out []file
	for _, req := range []struct {
		Request
		cert, key string
	}{
		{Request{Usage: ServerAuth, Names: serverNames, NotBefore: start, NotAfter: end}, f.ServerCert, f.ServerKey},
		{Request{Usage: ClientAuth, Names: []string{clientName}, NotBefore: start, NotAfter: end}, f.ClientCert, f.ClientKey},
	} {
		kp, err := ca.Issue(req.Request)
		if err != nil {
			return nil, err
		}
		key, err := EncodeKey(kp.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, file{req.cert, EncodeCertificate(kp.Cert), 0o644}, file{req.key, key, 0o600})
	}
	return out, nil
}
