package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testToken is an admin token of the tests.
const testToken = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"

// adminSection is an admin section listening on listen with the token file
// tokenFile.
func adminSection(listen, tokenFile string) string {
	return fmt.Sprintf("admin:\n  listen: %q\n  token_file: %q\n", listen, tokenFile)
}

// TestAdminTokenFile: admin.token_file is read like a secret file (one
// trailing newline dropped, a world-readable file warned about) and its
// token must be printable ASCII of 16 bytes or more that is not the
// example placeholder; no error or dump shows the token.
func TestAdminTokenFile(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		mode     os.FileMode
		want     string // the token, or a part of the error
		warnings int
	}{
		{"one newline trimmed", testToken + "\n", 0o600, testToken, 0},
		{"CRLF trimmed", testToken + "\r\n", 0o600, testToken, 0},
		{"group readable is fine", testToken, 0o640, testToken, 0},
		{"world readable warns", testToken, 0o644, testToken, 1},
		{"short", "0123456789abcde", 0o600, "too short (15 bytes): the admin token needs at least 16 bytes", 0},
		{"empty", "", 0o600, "too short (0 bytes)", 0},
		{"inner space", "0123456789 abcdef", 0o600, "must be printable ASCII", 0},
		{"tab", "0123456789abcdef\t", 0o600, "must be printable ASCII", 0},
		{"two newlines", testToken + "\n\n", 0o600, "must be printable ASCII", 0},
		{"not ASCII", "0123456789abcdef\u00e9", 0o600, "must be printable ASCII", 0},
		{"placeholder", "CHANGE-ME-openssl-rand-hex-32", 0o600, "still the example placeholder CHANGE-ME", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "admin.token")
			writeFile(t, path, tt.content, tt.mode)
			c, err := parseString(t, dir, base+adminSection("127.0.0.1:9090", "admin.token"))
			if tt.want != testToken {
				wantError(t, err, "edge.yaml:13:3: admin.token_file: ", path, tt.want)
				if _, rerr := ReadAdminToken(path); rerr == nil || !strings.Contains(rerr.Error(), tt.want) || !errors.Is(rerr, ErrInvalid) {
					t.Errorf("ReadAdminToken = %v, want an ErrInvalid holding %q", rerr, tt.want)
				}
				if strings.Contains(err.Error(), "0123456789") {
					t.Errorf("the error shows the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(c.Admin.Token) != testToken || c.Admin.TokenFile != path {
				t.Errorf("Token %q from %q, want %q from %q", c.Admin.Token, c.Admin.TokenFile, testToken, path)
			}
			if w := c.Warnings(); len(w) != tt.warnings || (tt.warnings > 0 && (!strings.Contains(w[0], "admin.token_file: ") || !strings.Contains(w[0], "chmod 640 "+path))) {
				t.Errorf("warnings %q, want %d", w, tt.warnings)
			}
			if tok, err := ReadAdminToken(path); err != nil || string(tok) != testToken {
				t.Errorf("ReadAdminToken = %q, %v", tok, err)
			}
			for _, s := range []string{c.String(), c.Admin.String(), fmt.Sprint(c.Admin), fmt.Sprintf("%+v", *c.Admin)} {
				if strings.Contains(s, testToken) || !strings.Contains(s, path) {
					t.Errorf("a printed configuration shows the token or not its file: %s", s)
				}
			}
		})
	}
	if _, err := ReadAdminToken(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadAdminToken of a missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestAdminListenNotPublic: admin.listen takes loopback, private,
// link-local and shared (100.64.0.0/10) addresses, IPv4-mapped ones too,
// and the wildcard with a warning; a public address is an error naming the
// file, line and key.
func TestAdminListenNotPublic(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "admin.token"), testToken, 0o600)
	for _, tc := range []struct {
		listen   string
		public   bool
		warnings int
	}{
		{"127.0.0.1:9090", false, 0},
		{"[::1]:9090", false, 0},
		{"10.1.2.3:9090", false, 0},
		{"172.31.0.1:9090", false, 0},
		{"192.168.1.1:9090", false, 0},
		{"100.101.102.103:9090", false, 0},
		{"169.254.0.10:9090", false, 0},
		{"[fd12:3456::1]:9090", false, 0},
		{"[::ffff:10.0.0.1]:9090", false, 0},
		{"0.0.0.0:9090", false, 1},
		{"[::]:9090", false, 1},
		{"8.8.8.8:9090", true, 0},
		{"203.0.113.10:9090", true, 0},
		{"172.32.0.1:9090", true, 0},
		{"100.128.0.1:9090", true, 0},
		{"[::ffff:8.8.8.8]:9090", true, 0},
		{"[2001:db8::1]:9090", true, 0},
		{"[2a00:1450::1]:9090", true, 0},
	} {
		c, err := parseString(t, dir, base+adminSection(tc.listen, "admin.token"))
		switch {
		case tc.public:
			wantError(t, err, "edge.yaml:12:3: admin.listen: ", "is a public address")
		case err != nil:
			t.Errorf("admin.listen %s: %v", tc.listen, err)
		case len(c.Warnings()) != tc.warnings:
			t.Errorf("admin.listen %s: warnings %q, want %d", tc.listen, c.Warnings(), tc.warnings)
		}
	}
}

// TestAdminTokenChanged: a new token in the same file is a change of
// admin.token_file, so that a reload reports it (it needs a restart).
func TestAdminTokenChanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.token")
	writeFile(t, path, testToken, 0o600)
	a := mustParse(t, dir, base+adminSection("127.0.0.1:9090", "admin.token"))
	writeFile(t, path, strings.ToUpper(testToken), 0o600)
	b := mustParse(t, dir, base+adminSection("127.0.0.1:9090", "admin.token"))
	if got := Changed(a, b); len(got) != 1 || got[0] != "admin.token_file" {
		t.Errorf("Changed = %q, want [admin.token_file]", got)
	}
}
