package credsvc

// The unexported names that the tests in package credsvc_test use.

// RefusalLogWindow is refusalLogWindow.
const RefusalLogWindow = refusalLogWindow

// MaxBody is maxBody.
const MaxBody = maxBody

// NumEndpoints and NumOutcomes are the numbers of endpoints and outcomes.
const (
	NumEndpoints = endpoints
	NumOutcomes  = outcomes
)

// OIDSubjectAltName is oidSubjectAltName.
var OIDSubjectAltName = oidSubjectAltName

// IsHostName is isHostName.
var IsHostName = isHostName

// ErrorBody is errorBody.
type ErrorBody = errorBody

// LimiterSize returns the number of buckets of h's rate limiter.
func (h *Handler) LimiterSize() int { return h.limit.size() }
