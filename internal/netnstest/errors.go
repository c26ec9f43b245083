package netnstest

import "errors"

// ErrUnknownNamespace reports a namespace name that was not created with
// Add.
var ErrUnknownNamespace = errors.New("netnstest: unknown namespace")
