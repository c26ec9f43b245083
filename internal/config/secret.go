package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Secret is one shared secret of ephemeral credentials.
type Secret struct {
	// ID names the secret in logs and metrics; unique.
	ID string
	// Value is the HMAC key, at least 16 bytes, from the key "secret"
	// or the file that "secret_file" names.
	Value []byte `key:"secret"`
}

const (
	// minSecretLen is the shortest secret or nonce key accepted.
	minSecretLen = 16
	// maxSecretFileLen bounds what a secret file may hold; anything larger
	// is the wrong file.
	maxSecretFileLen = 4096
	// placeholder marks the example secrets that must be replaced.
	placeholder = "CHANGE-ME"
)

// MarshalJSON writes s with its value replaced by "REDACTED".
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	}{s.ID, redact(s.Value)})
}

// String returns the secret's ID and "REDACTED", never its value.
func (s Secret) String() string { return s.ID + ":REDACTED" }

// secrets decodes auth.secrets, refusing duplicate IDs.
func (p *parser) secrets(e entry, dst *[]Secret) error {
	items, err := p.list(e)
	if err != nil {
		return err
	}
	ids := make(map[string]int, len(items))
	for i, item := range items {
		s, err := p.secret(item)
		if err != nil {
			return err
		}
		if j, dup := ids[s.ID]; dup {
			return p.failAt(p.where(item.path+".id"), item.path+".id", "%q: duplicate secret id (see %s[%d])", s.ID, e.path, j)
		}
		ids[s.ID] = i
		*dst = append(*dst, s)
	}
	return nil
}

// secret decodes one secret: an id and exactly one of secret or
// secret_file.
func (p *parser) secret(e entry) (Secret, error) {
	var s Secret
	seen, err := p.mapping(e, []field{
		{"id", func(e entry) error {
			id, err := p.str(e)
			if err == nil && id == "" {
				err = p.fail(e, "must not be empty")
			}
			s.ID = id
			return err
		}},
		{"secret", func(e entry) error {
			v, err := p.inlineSecret(e)
			s.Value = v
			return err
		}},
		{"secret_file", func(e entry) error {
			v, err := p.secretFile(e)
			s.Value = v
			return err
		}},
	}, [2]string{"secret", "secret_file"})
	if err != nil {
		return Secret{}, err
	}
	if err := p.require(e, seen, "id"); err != nil {
		return Secret{}, err
	}
	if s.Value == nil {
		return Secret{}, p.fail(e, "one of secret or secret_file is required")
	}
	return s, nil
}

// inlineSecret decodes a secret written in the configuration itself.
func (p *parser) inlineSecret(e entry) ([]byte, error) {
	s, err := p.literal(e)
	if err != nil {
		return nil, err
	}
	p.inline = append(p.inline, e.path)
	return []byte(s), p.checkSecret(e, "", []byte(s))
}

// warnInlineSecrets warns when the configuration file, of mode mode, holds
// secrets inline and all users may read it. As for secret files, the group
// may read it: it may be avedge's.
func (p *parser) warnInlineSecrets(mode fs.FileMode) {
	if len(p.inline) == 0 || mode.Perm()&0o007 == 0 {
		return
	}
	p.warn(p.inline[0], "%q holds secrets inline (%s) and is accessible to all users (mode %04o); run: chmod o-rwx %s, or move the secrets to secret_file and nonce_key_file",
		p.file, strings.Join(p.inline, ", "), mode.Perm(), p.file)
}

// secretFile reads the secret in the file named by e, relative to the
// configuration's directory, without one trailing newline. A file other
// users may read is allowed (the group may be avedge's) but warned about.
func (p *parser) secretFile(e entry) ([]byte, error) {
	name, err := p.str(e)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, p.fail(e, "must not be empty")
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	v, mode, err := ReadSecretFile(path)
	if err != nil {
		return nil, p.fail(e, "%s", err)
	}
	if mode.Perm()&0o007 != 0 {
		p.warn(e.path, "%q is accessible to all users (mode %04o); run: chmod 600 %s", path, mode.Perm(), path)
	}
	return v, p.checkSecret(e, fmt.Sprintf("%q: ", path), v)
}

// ReadSecretFile returns the content of the secret file at path (a regular
// file, at most 4 KiB) without one trailing newline, and its mode.
func ReadSecretFile(path string) ([]byte, fs.FileMode, error) {
	b, mode, err := readRegularFile(path, maxSecretFileLen)
	if err != nil {
		return nil, 0, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return b, mode, nil
}

// readRegularFile returns the content of the regular file at path, at most
// limit bytes (a larger file is an error), and its mode.
func readRegularFile(path string, limit int) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %q: %w", path, unwrapPath(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %q: %w", path, unwrapPath(err))
	}
	if !info.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%q is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %q: %w", path, unwrapPath(err))
	}
	if len(b) > limit {
		return nil, 0, fmt.Errorf("%q is larger than %d bytes; is it the right file?", path, limit)
	}
	return b, info.Mode(), nil
}

// unwrapPath drops the *fs.PathError wrapper, whose text repeats the path.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// checkSecret refuses short secrets and the example placeholder. prefix
// names where the value came from; the value itself is never echoed.
func (p *parser) checkSecret(e entry, prefix string, v []byte) error {
	switch {
	case len(v) < minSecretLen:
		return p.fail(e, "%stoo short (%d bytes): secrets need at least %d bytes; generate one with: openssl rand -hex 32",
			prefix, len(v), minSecretLen)
	case bytes.Contains(v, []byte(placeholder)):
		return p.fail(e, "%sstill the example placeholder %s; generate a secret with: openssl rand -hex 32", prefix, placeholder)
	}
	return nil
}
