package authhook

// Outcome is how a Credential call ended.
type Outcome uint8

// The outcomes of Credential calls.
const (
	// Allowed: the service answered with a credential.
	Allowed Outcome = iota
	// Refused: the service answered 403 or 404.
	Refused
	// Timeout: the service did not answer within Options.Timeout.
	Timeout
	// Error: the lookup failed otherwise (connection, TLS, status, body).
	Error
	// CachedAllowed: an allowed answer was reused from the cache.
	CachedAllowed
	// CachedRefused: a refusal or failure was reused from the cache.
	CachedRefused
	// Overloaded: the lookup was refused without asking, as
	// Options.MaxInflight lookups were under way.
	Overloaded
	// NumOutcomes is the number of outcomes.
	NumOutcomes
)

var outcomeNames = [NumOutcomes]string{"allowed", "refused", "timeout", "error", "cached_allowed", "cached_refused", "overloaded"}

// String returns the outcome's metric label value.
func (o Outcome) String() string {
	if o < NumOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// LatencyBuckets are the upper bounds, in seconds, of the latency
// histogram of the service's answers.
var LatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Stats are a Client's counts.
type Stats struct {
	// Outcomes counts Credential calls by Outcome (pending calls are
	// counted once their lookup ends, under the lookup's outcome).
	Outcomes [NumOutcomes]uint64
	// Latency is how long the lookups that reached the service (or timed
	// out or failed trying) took.
	Latency Histogram
}

// Histogram is a cumulative histogram of durations in seconds.
type Histogram struct {
	// Buckets maps each upper bound of LatencyBuckets to the number of
	// observations at most it.
	Buckets map[float64]uint64
	// Count and Sum are the number and the sum of the observations.
	Count uint64
	Sum   float64
}
