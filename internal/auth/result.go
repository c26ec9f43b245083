package auth

import (
	"fmt"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// Result describes an authenticated request.
type Result struct {
	// Username is the USERNAME of the request.
	Username string
	// Identity is the identity part of an ephemeral username, or the
	// username of a static user.
	Identity string
	// Key is the long-term key that verified the request.
	Key []byte
	// SHA256 reports that the request was checked with
	// MESSAGE-INTEGRITY-SHA256 rather than MESSAGE-INTEGRITY.
	SHA256 bool
	// Expires is an ephemeral credential's expiry; zero for static users.
	Expires time.Time
	// PastExpiry reports that the credential had expired, and the request
	// passed as one on the allocation its username holds.
	PastExpiry bool
	// Tenant names the tenant whose realm and credentials the request
	// matched, and TenantIndex is its place in Authenticator.Tenants (0:
	// the default tenant).
	Tenant      string
	TenantIndex int
}

// Sign adds to m the kind of message integrity the request used, keyed with
// r.Key. Call it after adding every other attribute and before FINGERPRINT.
func (r Result) Sign(m *stun.Message) error {
	var err error
	if r.SHA256 {
		err = stunproto.NewMessageIntegritySHA256(r.Key).AddTo(m)
	} else {
		err = stun.MessageIntegrity(r.Key).AddTo(m)
	}
	if err != nil {
		return fmt.Errorf("auth: sign response: %w", err)
	}
	return nil
}
