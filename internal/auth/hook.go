package auth

import "net/netip"

// HookQuery is what a Hook is asked about a username the Authenticator
// does not know.
type HookQuery struct {
	// Username is the request's USERNAME.
	Username string
	// Realm is the Authenticator's realm.
	Realm string
	// Client is the request's source transport address.
	Client netip.AddrPort
	// Transport is the client's transport ("udp", "tcp", "tls", ...);
	// empty when the caller did not say.
	Transport string
}

// Hook is an external source of credentials, asked about usernames that
// are neither static users, users of the users file nor ephemeral
// usernames (see Options.Hook). Credential is called on the request path
// and must never block: it returns the credential of q.Username, an error
// for a refusal, or an error matching ErrPending, a *Pending whose Done
// channel is closed when an answer is known, so that the request can be
// authenticated again. It must be safe for concurrent use.
type Hook interface {
	Credential(q HookQuery) (Credential, error)
}

// Pending is the error of a request whose username a Hook is looking up:
// it matches ErrPending, and Done is closed once the answer is known (then
// authenticating the request again finds it without waiting).
type Pending struct {
	// Done is closed when the lookup ends.
	Done <-chan struct{}
}

// Error implements error.
func (p *Pending) Error() string { return ErrPending.Error() }

// Unwrap makes a *Pending match ErrPending.
func (p *Pending) Unwrap() error { return ErrPending }
