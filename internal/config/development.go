package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

const (
	// DevelopmentSource is Config.Source of the development edge.
	DevelopmentSource = "(development defaults)"
	// devSecretFile is the development secret's file name in the state
	// directory.
	devSecretFile = "dev.secret"
	// devAdminTokenFile is the development edge's admin token's file name
	// in the state directory.
	devAdminTokenFile = "admin.token"
	// devSecretID is the development secret's ID.
	devSecretID = "dev"
	// devRealm is the development edge's realm.
	devRealm = "avedge.local"
	// DevPKIDir is the directory of the development PKI in the state
	// directory.
	DevPKIDir = "pki"
)

// devAdminListen is the development edge's admin listener. It is not
// 9090, which a Prometheus server on the developer's machine may hold.
var devAdminListen = netip.MustParseAddrPort("127.0.0.1:9478")

// Development returns the development edge used by "avedge serve" without a
// configuration file: UDP and TCP (plain TURN and TLS) listeners on
// 127.0.0.1:3478 and [::1]:3478 and TLS listeners on port 5349, relay
// ports 50000-59999 on 127.0.0.1, realm "avedge.local", peers on loopback
// allowed, MS-TURN on, one secret "dev" read from stateDir/dev.secret, the
// credential service on 127.0.0.1:5062 with the development PKI of
// stateDir/pki, trusting the client name pki.DevClientName, and the admin
// endpoints on 127.0.0.1:9478 with the token in stateDir/admin.token. The
// secret and the token are created on first use (32 random bytes,
// hex-encoded; the files 0600, the directory 0700) and refused if group or
// other users may access them; the PKI is created on first use and renewed
// before it expires (see pki.EnsureDev).
func Development(stateDir string) (*Config, error) {
	secret, err := devFile(stateDir, devSecretFile, "development secret")
	if err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(stateDir, devAdminTokenFile)
	token, err := devFile(stateDir, devAdminTokenFile, "development admin token")
	if err != nil {
		return nil, err
	}
	if err := checkToken(token); err != nil {
		return nil, &Error{File: tokenFile, Msg: "development admin token: " + err.Error() + "; or delete the file to generate a new one"}
	}
	files, err := pki.EnsureDev(filepath.Join(stateDir, DevPKIDir), time.Now())
	if err != nil {
		return nil, fmt.Errorf("config: development certificates: %w", err)
	}
	c := defaults()
	c.Source = DevelopmentSource
	c.Development = true
	c.Realm = devRealm
	// TURN over TLS uses the development PKI's server certificate
	// (localhost, 127.0.0.1, ::1), signed by the development CA.
	tls := &ListenerTLS{CertFile: files.ServerCert, KeyFile: files.ServerKey}
	c.Listeners = []Listener{
		{Protocol: "udp", Address: netip.MustParseAddrPort("127.0.0.1:3478")},
		{Protocol: "udp", Address: netip.MustParseAddrPort("[::1]:3478")},
		{Protocol: "tcp", Address: netip.MustParseAddrPort("127.0.0.1:3478"), TLS: tls},
		{Protocol: "tcp", Address: netip.MustParseAddrPort("[::1]:3478"), TLS: tls},
		{Protocol: "tls", Address: netip.MustParseAddrPort("127.0.0.1:5349"), TLS: tls},
		{Protocol: "tls", Address: netip.MustParseAddrPort("[::1]:5349"), TLS: tls},
	}
	c.Relay.Address = netip.MustParseAddr("127.0.0.1")
	c.Relay.AddressV6 = netip.MustParseAddr("::1")
	c.Peers = Peers{
		DefaultDeny: true,
		Allow:       []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}
	c.MSTurn.Enabled = true // for testing Lync / Skype for Business clients
	c.Auth.Secrets = []Secret{{ID: devSecretID, Value: secret}}
	c.Auth.NonceKey = deriveNonceKey(secret)
	c.Quotas.AllocationsTotal = c.Relay.Ports()
	cs := defaultCredentialService()
	cs.CertFile, cs.KeyFile, cs.ClientCAFile = files.ServerCert, files.ServerKey, files.CACert
	cs.TrustedClients = []string{pki.DevClientName}
	cs.MaxTTL = c.Auth.MaxCredentialLifetime
	cs.Relays.Internet = listenerRelays(c)
	cs.Relays.Intranet = listenerRelays(c)
	c.CredentialService = cs
	c.Admin = &Admin{Listen: devAdminListen, TokenFile: tokenFile, Token: token}
	return c, nil
}

// devFile returns the development secret or token (what names it) in the
// file name of stateDir, creating it when it does not exist yet.
func devFile(stateDir, name, what string) ([]byte, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("config: create state directory: %w", err)
	}
	path := filepath.Join(stateDir, name)
	v, err := readDevFile(path, what)
	if !errors.Is(err, fs.ErrNotExist) {
		return v, err
	}
	err = createDevFile(stateDir, path, what)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	// Created now, or by a concurrent avedge: read it back either way.
	return readDevFile(path, what)
}

// readDevFile reads an existing development secret or token, refusing one
// that group or other users may access and one that is too short.
func readDevFile(path, what string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", what, err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, &Error{File: path, Msg: fmt.Sprintf(
			"%s is accessible to other users (mode %04o); run: chmod 600 %s", what, perm, path)}
	}
	v, _, err := ReadSecretFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: what + ": " + err.Error()}
	}
	if len(v) < minSecretLen {
		return nil, &Error{File: path, Msg: fmt.Sprintf(
			"%s is too short (%d bytes, need %d); delete the file to generate a new one", what, len(v), minSecretLen)}
	}
	return v, nil
}

// createDevFile writes a new development secret or token to path without
// ever exposing a partly written file: it writes a temporary file and
// links it into place, which fails with fs.ErrExist if path appeared
// meanwhile.
func createDevFile(dir, path, what string) error {
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("config: create %s: %w", what, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(randomBytes(32)) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("config: create %s: %w", what, err)
	}
	return nil
}

// randomBytes returns n random bytes. crypto/rand.Read does not fail.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
