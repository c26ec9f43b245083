package sessions

import "time"

// Revocation refuses the credentials of an identity. A credential of the
// identity is refused while the revocation stands if it might have been
// issued before it (its expiry is at most At plus the maximum credential
// lifetime): such credentials stay refused until their own expiry. Any
// credential of the identity is refused until Until. A zero Until keeps
// the revocation until an operator lifts it.
type Revocation struct {
	// Identity is the identity revoked.
	Identity string `json:"identity"`
	// At is when it was revoked.
	At time.Time `json:"at"`
	// Until is when new credentials of the identity are accepted again;
	// zero: not before the revocation is lifted.
	Until time.Time `json:"until,omitzero"`
}
