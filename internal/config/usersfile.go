package config

import (
	"io/fs"
	"path/filepath"

	"github.com/avedge/avedge/internal/auth"
)

// usersFile decodes auth.users_file: a path, relative to the
// configuration's directory; checkUsersFile reads it once the realm is
// known.
func (p *parser) usersFile(e entry, dst *string) error {
	name, err := p.str(e)
	if err != nil {
		return err
	}
	if name == "" {
		return p.fail(e, "must not be empty (leave the key out for no users file)")
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(p.dir, name)
	}
	*dst = name
	return nil
}

// checkUsersFile reads and parses auth.users_file, if set, so that a
// mistake in it is reported with the file and line before the edge
// starts; a file every user may read draws a warning, since its keys
// (HA1 or passwords) let anyone authenticate as its users.
func (p *parser) checkUsersFile() error {
	return p.checkUsersFileOf("auth.users_file", p.cfg.Auth.UsersFile, p.cfg.Realm)
}

// checkUsersFileOf is checkUsersFile for the users file at path of key,
// whose lines name realm; an empty path is none.
func (p *parser) checkUsersFileOf(key, path, realm string) error {
	if path == "" {
		return nil
	}
	_, mode, err := ReadUsersFile(path, realm)
	if err != nil {
		return p.failAt(p.where(key), key, "%s", err)
	}
	if mode.Perm()&0o007 != 0 {
		p.warn(key, "%q is accessible to all users (mode %04o); its keys are passwords: run chmod 640 %s", path, mode.Perm(), path)
	}
	return nil
}

// ReadUsersFile reads and parses the users file at path for realm (see
// auth.ParseUsersFile) and returns its users and the file's mode. Its
// errors name the file and line, never a key.
func ReadUsersFile(path, realm string) (map[string]auth.Credential, fs.FileMode, error) {
	b, mode, err := readRegularFile(path, auth.MaxUsersFileSize)
	if err != nil {
		return nil, 0, err
	}
	users, err := auth.ParseUsersFile(path, b, realm)
	if err != nil {
		return nil, 0, err
	}
	return users, mode, nil
}
