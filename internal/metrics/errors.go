package metrics

import "errors"

// ErrBadOptions means Options are incomplete.
var ErrBadOptions = errors.New("metrics: invalid options")
