package msturn

// Error codes of the dialect's error responses ([MS-TURN] §2.2.2.5 and
// §3.3.5.1; the numbers of RFC 3489 and the TURN drafts it builds on).
const (
	CodeTryAlternate     = 300
	CodeBadRequest       = 400
	CodeUnauthorized     = 401
	CodeForbidden        = 403
	CodeUnknownAttribute = 420
	CodeIntegrityFailure = 431
	CodeMissingUsername  = 432
	CodeMissingRealm     = 434
	CodeMissingNonce     = 435
	CodeUnknownUsername  = 436
	CodeNoBinding        = 437
	CodeStaleNonce       = 438
	CodeWrongUsername    = 441
	// CodeAddressFamily is RFC 6156's 440 (Address Family not
	// Supported), for an IPv6 allocation (MS-VERSION 4) the edge cannot
	// give; the older drafts used 440 for "No Destination", which the
	// dialect's Allocate never needs.
	CodeAddressFamily   = 440
	CodeAllocationQuota = 486
	CodeServerError     = 500
	CodeInsufficientCap = 508
)

// ErrorCode returns the code of m's ERROR-CODE: two zero bytes, the class
// (hundreds) and the number (the rest), then the reason phrase
// (RFC 3489 §11.2.9).
func (m *Message) ErrorCode() (int, error) {
	v, err := m.Get(AttrErrorCode)
	if err != nil {
		return 0, err
	}
	if len(v) < 4 || v[2] < 3 || v[2] > 6 || v[3] > 99 {
		return 0, ErrMalformed
	}
	return int(v[2])*100 + int(v[3]), nil
}
