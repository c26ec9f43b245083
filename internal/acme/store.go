package acme

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// store is the storage of one CA's account key and one certificate:
// <dir>/<CA host>/account.key and <dir>/<CA host>/<first domain>.pem.
type store struct {
	dir      string
	keyPath  string
	certPath string
}

// dirMode is the mode of the storage directories; files are 0600 (as
// os.CreateTemp makes them).
const dirMode = 0o700

// openStore creates the storage directory of the CA at directoryURL under
// dir, if need be.
func openStore(dir, directoryURL, name string) (store, error) {
	u, err := url.Parse(directoryURL)
	if err != nil || u.Host == "" {
		return store{}, fmt.Errorf("%w: directory %q is not a URL", ErrOptions, directoryURL)
	}
	sub := filepath.Join(dir, strings.NewReplacer(":", "_", "/", "_").Replace(u.Host))
	if err := os.MkdirAll(sub, dirMode); err != nil {
		return store{}, fmt.Errorf("acme: storage: %w", err)
	}
	return store{dir: sub, keyPath: filepath.Join(sub, "account.key"), certPath: filepath.Join(sub, name+".pem")}, nil
}

// accountKey returns the account key, creating it on first use; of two
// nodes sharing the directory that create it at once, one key wins and
// both use it.
func (s store) accountKey() (crypto.Signer, error) {
	if k, err := s.readKey(); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("acme: account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("acme: account key: %w", err)
	}
	tmp, err := s.writeTemp(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, s.keyPath); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("acme: account key: %w", err)
	}
	return s.readKey()
}

// readKey reads the account key.
func (s store) readKey() (crypto.Signer, error) {
	b, err := os.ReadFile(s.keyPath)
	if err != nil {
		return nil, fmt.Errorf("acme: account key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("acme: account key %s: %w", s.keyPath, ErrBadKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("acme: account key %s: %w", s.keyPath, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("acme: account key %s: %w", s.keyPath, ErrBadKey)
	}
	return signer, nil
}

// loadCert reads the stored certificate, which must name every domain
// and be valid at now.
func (s store) loadCert(domains []string, now time.Time) (tls.Certificate, error) {
	b, err := os.ReadFile(s.certPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("acme: %w", err)
	}
	c, err := tls.X509KeyPair(b, b)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("acme: %s: %w", s.certPath, err)
	}
	if err := usable(c.Leaf, domains, now); err != nil {
		return tls.Certificate{}, err
	}
	return c, nil
}

// usable checks that leaf names every domain and is valid at now.
func usable(leaf *x509.Certificate, domains []string, now time.Time) error {
	for _, d := range domains {
		if err := leaf.VerifyHostname(d); err != nil {
			return fmt.Errorf("%w: %w", ErrBadCertificate, err)
		}
	}
	if now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		return fmt.Errorf("%w: valid from %s to %s", ErrBadCertificate, leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// saveCert replaces the stored certificate with c, its chain and key in
// one file, which readers thus never see half-written.
func (s store) saveCert(c tls.Certificate) error {
	var b bytes.Buffer
	for _, der := range c.Certificate {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return fmt.Errorf("acme: certificate key: %w", err)
	}
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	tmp, err := s.writeTemp(b.Bytes())
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.certPath); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("acme: storage: %w", err)
	}
	return nil
}

// writeTemp writes b to a new file (mode 0600) of the directory and
// returns its name.
func (s store) writeTemp(b []byte) (string, error) {
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("acme: storage: %w", err)
	}
	_, err = f.Write(b) // os.CreateTemp made it 0600
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return f.Name(), nil
	}
	os.Remove(f.Name())
	return "", fmt.Errorf("acme: storage: %w", err)
}
