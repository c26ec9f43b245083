package records

import "errors"

var (
	// ErrNoOutput means Open was given an empty output.
	ErrNoOutput = errors.New("records: no output")
	// ErrClosed means the Writer was closed.
	ErrClosed = errors.New("records: writer closed")
)
