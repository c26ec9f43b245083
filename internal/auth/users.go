package auth

import (
	"maps"
	"sync/atomic"

	"github.com/avedge/avedge/internal/stunproto"
)

// Credential is what checks the message integrity of a long-term user:
// its password, or, for a user known only by the key coturn stores
// (turnadmin -k, its user database), that MD5 key, the HA1 of
// MD5(username ":" realm ":" password).
type Credential struct {
	// Password is the user's password; empty for a user known by HA1.
	Password string
	// HA1 is the MD5 long-term key of a user without Password.
	HA1 []byte
}

// LongTermKey returns the RFC 8489 §9.2.2 key of algorithm alg for
// username in realm, or nil when c cannot make it: a user known by HA1
// has the MD5 key only.
func (c Credential) LongTermKey(alg uint16, username, realm string) []byte {
	if c.Password != "" {
		return Key(alg, username, realm, c.Password)
	}
	if alg == stunproto.AlgMD5 && len(c.HA1) == 16 {
		return c.HA1
	}
	return nil
}

// Users is a table of long-term users (username to Credential) that the
// relay checks as it runs: Set replaces the whole table at once, and
// requests see either the old or the new one. Its zero value is empty.
type Users struct {
	cur atomic.Pointer[map[string]Credential]
}

// Set replaces the table with a copy of users.
func (u *Users) Set(users map[string]Credential) {
	m := maps.Clone(users)
	u.cur.Store(&m)
}

// Get returns the credential of username, if the table has it.
func (u *Users) Get(username string) (Credential, bool) {
	m := u.cur.Load()
	if m == nil {
		return Credential{}, false
	}
	c, ok := (*m)[username]
	return c, ok
}

// Len returns the number of users in the table.
func (u *Users) Len() int {
	if m := u.cur.Load(); m != nil {
		return len(*m)
	}
	return 0
}
