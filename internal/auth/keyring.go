package auth

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"sync/atomic"
)

// Keyring holds the active secrets, newest first. Readers never block: the
// list sits behind an atomic pointer and Set swaps in a new copy. The credential
// service signs with Newest; the relay accepts a credential made with any
// active secret. It is safe for concurrent use; create it with NewKeyring.
type Keyring struct {
	secrets atomic.Pointer[[]keyEntry]
}

// keyEntry is an active secret with its pool of keyed HMAC-SHA1 states, for
// checking credentials without a fresh HMAC per request.
type keyEntry struct {
	Secret
	macs macPool
}

// password returns the REST password of username under e.
func (e *keyEntry) password(username string) string {
	h := e.macs.get()
	defer e.macs.put(h)
	return restPassword(h, username)
}

// NewKeyring returns a Keyring holding secrets (newest first). See Set for
// the rules they must follow.
func NewKeyring(secrets []Secret) (*Keyring, error) {
	k := new(Keyring)
	if err := k.Set(secrets); err != nil {
		return nil, err
	}
	return k, nil
}

// Set replaces the active secrets (newest first), for example on reload.
// There must be at least one; IDs must be non-empty and distinct and values
// non-empty, else ErrBadSecret and the keyring is unchanged. The secrets are
// copied.
func (k *Keyring) Set(secrets []Secret) error {
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no secrets", ErrBadSecret)
	}
	cp := make([]keyEntry, len(secrets))
	seen := make(map[string]bool, len(secrets))
	for i, s := range secrets {
		switch {
		case s.ID == "":
			return fmt.Errorf("%w: secret %d has an empty ID", ErrBadSecret, i)
		case seen[s.ID]:
			return fmt.Errorf("%w: duplicate ID %q", ErrBadSecret, s.ID)
		case len(s.Value) == 0:
			return fmt.Errorf("%w: secret %q is empty", ErrBadSecret, s.ID)
		}
		seen[s.ID] = true
		v := bytes.Clone(s.Value)
		cp[i] = keyEntry{Secret: Secret{ID: s.ID, Value: v}, macs: newMACPool(sha1.New, v)}
	}
	k.secrets.Store(&cp)
	return nil
}

// load returns the current secrets without copying; callers must not modify
// them.
func (k *Keyring) load() []keyEntry {
	if p := k.secrets.Load(); p != nil {
		return *p
	}
	return nil
}

// Newest returns a copy of the newest secret, the one to issue credentials
// with, or the zero Secret if the keyring was never set.
func (k *Keyring) Newest() Secret {
	s := k.load()
	if len(s) == 0 {
		return Secret{}
	}
	return Secret{ID: s[0].ID, Value: bytes.Clone(s[0].Value)}
}

// All returns a copy of the active secrets, newest first.
func (k *Keyring) All() []Secret {
	s := k.load()
	out := make([]Secret, len(s))
	for i, e := range s {
		out[i] = Secret{ID: e.ID, Value: bytes.Clone(e.Value)}
	}
	return out
}
