package probe

import "time"

// Result is the outcome of one check.
type Result struct {
	// Name says what was checked and where, such as
	// "allocate udp 192.0.2.1:3478".
	Name string
	// Status is the outcome.
	Status Status
	// Detail is what the check found.
	Detail string
	// Remedy says what to do about a failure or warning; empty otherwise.
	Remedy string
	// Duration is how long the check took.
	Duration time.Duration
}
