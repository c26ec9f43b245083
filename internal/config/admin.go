package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
)

// Admin configures the admin HTTP endpoints: /metrics, /healthz and
// /readyz, which answer whoever reaches them, and POST /drain and the
// session control paths, which need the admin token.
type Admin struct {
	// Listen is the TCP address of the admin listener: a loopback or
	// private address of the internal interface and a port.
	Listen netip.AddrPort `json:"listen"`
	// TokenFile is the file that holds the admin token, resolved against
	// the configuration's directory.
	TokenFile string `json:"token_file"`
	// Token is the content of TokenFile without one trailing newline: the
	// bearer token that POST /drain and session control require.
	Token []byte `json:"-" key:"token_file"`
}

// String returns a's JSON form, which leaves the token out, so that
// printing an Admin never reveals it.
func (a Admin) String() string {
	b, err := json.Marshal(a)
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}

// admin decodes the admin section; its presence enables the listener, and
// it needs both keys.
func (p *parser) admin(e entry, dst **Admin) error {
	a := &Admin{}
	seen, err := p.mapping(e, []field{
		{"listen", func(e entry) error { return p.adminListen(e, &a.Listen) }},
		{"token_file", func(e entry) error { return p.adminTokenFile(e, a) }},
	})
	if err != nil {
		return err
	}
	if err := p.require(e, seen, "listen"); err != nil {
		return err
	}
	if _, ok := seen["token_file"]; !ok {
		return p.failAt(e.at, child(e.path, "token_file"),
			"required: POST /drain and session control need a bearer token; create its file with: (umask 027; openssl rand -hex 32 > /etc/avedge/admin.token)")
	}
	*dst = a
	return nil
}

// adminListen decodes admin.listen: "IP:port", a concrete address that is
// not public (loopback, private, link-local or 100.64.0.0/10; see
// isPublic). A wildcard address draws a warning.
func (p *parser) adminListen(e entry, dst *netip.AddrPort) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(s)
	switch {
	case err != nil:
		return p.fail(e, "%q: not IP:port (write IPv6 as \"[::1]:9090\")", s)
	case ap.Port() == 0:
		return p.fail(e, "%q: port must be between 1 and 65535", s)
	case ap.Addr().Zone() != "":
		return p.fail(e, "%q: zoned addresses are not supported", s)
	case ap.Addr().IsUnspecified():
		p.warn(e.path, "%s listens on every interface; admin endpoints belong on the internal interface", ap)
	case isPublic(ap.Addr()):
		return p.fail(e, "%s is a public address: bind the admin endpoints to a loopback or private address of the internal interface", ap)
	}
	*dst = ap
	return nil
}

// adminTokenFile decodes admin.token_file: the name of a file holding the
// admin token, relative to the configuration's directory. A file every
// user may read draws a warning, as secret files do.
func (p *parser) adminTokenFile(e entry, a *Admin) error {
	name, err := p.str(e)
	if err != nil {
		return err
	}
	if name == "" {
		return p.fail(e, "must not be empty")
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	v, mode, err := ReadSecretFile(path)
	if err != nil {
		return p.fail(e, "%s", err)
	}
	if err := checkToken(v); err != nil {
		return p.fail(e, "%q: %s", path, err)
	}
	if mode.Perm()&0o007 != 0 {
		p.warn(e.path, "%q is accessible to all users (mode %04o); run: chmod 640 %s", path, mode.Perm(), path)
	}
	a.TokenFile, a.Token = path, v
	return nil
}

// ReadAdminToken reads the admin token in the file at path, as
// admin.token_file does: the file's content without one trailing newline,
// at least 16 printable ASCII characters without spaces. Its errors never
// hold the token.
func ReadAdminToken(path string) ([]byte, error) {
	v, _, err := ReadSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: admin token: %w", err)
	}
	if err := checkToken(v); err != nil {
		return nil, &Error{File: path, Msg: "admin token: " + err.Error()}
	}
	return v, nil
}

// checkToken refuses a token that is short, still the example
// placeholder, or holds a byte that cannot go verbatim into an
// Authorization header. The value itself is never echoed.
func checkToken(v []byte) error {
	if len(v) < minSecretLen {
		return fmt.Errorf("too short (%d bytes): the admin token needs at least %d bytes; generate one with: openssl rand -hex 32", len(v), minSecretLen)
	}
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return errors.New("holds a space, a control or a non-ASCII character: the admin token must be printable ASCII; generate one with: openssl rand -hex 32")
		}
	}
	if bytes.Contains(v, []byte(placeholder)) {
		return fmt.Errorf("still the example placeholder %s; generate a token with: openssl rand -hex 32", placeholder)
	}
	return nil
}
