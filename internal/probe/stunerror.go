package probe

import (
	"fmt"

	"github.com/pion/stun/v3"
)

// stunError is an error response (RFC 8489 §14.8, ERROR-CODE).
type stunError struct {
	code   stun.ErrorCode
	reason string
	// withCredentials tells whether the request carried credentials.
	withCredentials bool
}

// Error is the code and the reason phrase, such as "401 Unauthorized".
func (e *stunError) Error() string {
	return fmt.Sprintf("%d %s", int(e.code), e.reason)
}

// errorFrom returns the ERROR-CODE of an error response as a *stunError.
func errorFrom(m *stun.Message, withCredentials bool) error {
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(m); err != nil {
		return fmt.Errorf("%w: error response without ERROR-CODE", ErrProtocol)
	}
	return &stunError{code: ec.Code, reason: string(ec.Reason), withCredentials: withCredentials}
}
