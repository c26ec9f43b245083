package probe

import "fmt"

// Status is the outcome of a check.
type Status int

// The outcomes of a check.
const (
	// Pass means the check found what a client needs.
	Pass Status = iota
	// Warn means clients may work now but something needs attention.
	Warn
	// Fail means clients will not work this way.
	Fail
	// Skip means the check could not run, because an earlier one failed or
	// it does not apply.
	Skip
)

var statusNames = [...]string{Pass: "pass", Warn: "warn", Fail: "fail", Skip: "skip"}

// String returns "pass", "warn", "fail" or "skip".
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return statusNames[s]
}

// MarshalText returns the String form, for JSON.
func (s Status) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(statusNames) {
		return nil, fmt.Errorf("%w: status %d", ErrBadOptions, int(s))
	}
	return []byte(statusNames[s]), nil
}
