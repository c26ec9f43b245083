package probe

import (
	"context"
	"time"
)

// Credential is what the probe authenticates with (RFC 8489 §9.2,
// long-term credentials).
type Credential struct {
	// Username and Password are the long-term credential; an ephemeral
	// username is "<unix-expiry>:<identity>".
	Username, Password string
	// URIs are the edge URIs the issuer handed out with it, if any.
	URIs []string
	// IssuerTime is the issuer's clock when it answered, if known (from
	// the HTTP Date header, or the expiry less the TTL), and LocalTime the
	// local clock when the answer arrived; both zero when unknown.
	IssuerTime, LocalTime time.Time
	// Source says where the credential came from, for the report.
	Source string
}

// CredentialSource yields the credential the probe authenticates with.
type CredentialSource interface {
	// Credential returns the credential or an error wrapping
	// ErrCredential.
	Credential(ctx context.Context) (*Credential, error)
}

// StaticCredential is a username and password given on the command line.
type StaticCredential struct {
	Username, Password string
}

// Credential implements CredentialSource.
func (s StaticCredential) Credential(context.Context) (*Credential, error) {
	return &Credential{Username: s.Username, Password: s.Password, Source: "the command line"}, nil
}
