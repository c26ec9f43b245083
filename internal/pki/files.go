package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names of a development PKI directory.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "service.crt"
	ServerKeyFile  = "service.key"
	ClientCertFile = "client.crt"
	ClientKeyFile  = "client.key"
)

// Files are the paths of a development PKI: a CA, the credential service's
// server certificate and one client certificate, each with its key.
type Files struct {
	// Dir is the directory holding the files.
	Dir string
	// CACert and CAKey are the CA's certificate and key.
	CACert, CAKey string
	// ServerCert and ServerKey are the credential service's certificate
	// and key.
	ServerCert, ServerKey string
	// ClientCert and ClientKey are the trusted client's certificate and
	// key.
	ClientCert, ClientKey string
}

// DevFiles returns the paths of the development PKI files in dir.
func DevFiles(dir string) Files {
	j := func(name string) string { return filepath.Join(dir, name) }
	return Files{
		Dir:    dir,
		CACert: j(CACertFile), CAKey: j(CAKeyFile),
		ServerCert: j(ServerCertFile), ServerKey: j(ServerKeyFile),
		ClientCert: j(ClientCertFile), ClientKey: j(ClientKeyFile),
	}
}

// keys returns the private key paths of f.
func (f Files) keys() []string { return []string{f.CAKey, f.ServerKey, f.ClientKey} }

// all returns every path of f.
func (f Files) all() []string {
	return []string{f.CACert, f.CAKey, f.ServerCert, f.ServerKey, f.ClientCert, f.ClientKey}
}

// file is content to write with its mode.
type file struct {
	path string
	data []byte
	mode os.FileMode
}

// writeNew writes content to path, failing with ErrExists if path exists
// (also when another process creates it meanwhile): it writes a temporary
// file in the same directory and links it into place.
func writeNew(f file) error {
	tmp, err := writeTemp(f)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, f.path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, f.path)
		}
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// writeReplace writes content to path atomically, replacing any file there.
func writeReplace(f file) error {
	tmp, err := writeTemp(f)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, f.path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// writeTemp writes f's content with f's mode to a new temporary file next
// to f.path and returns its name.
func writeTemp(f file) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".*")
	if err != nil {
		return "", fmt.Errorf("pki: %w", err)
	}
	err = tmp.Chmod(f.mode)
	if err == nil {
		_, err = tmp.Write(f.data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("pki: write %s: %w", f.path, err)
	}
	return tmp.Name(), nil
}

// checkKeyMode refuses a private key file that group or other users may
// access, with the command that fixes it.
func checkKeyMode(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s (mode %04o); run: chmod 600 %s", ErrInsecureKey, path, perm, path)
	}
	return nil
}
