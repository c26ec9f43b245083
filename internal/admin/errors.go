package admin

import "errors"

// ErrBadOptions means Options are incomplete or invalid.
var ErrBadOptions = errors.New("admin: invalid options")
