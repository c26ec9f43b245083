package config

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error about the content of a configuration
// (including the development secret file).
var ErrInvalid = errors.New("config: invalid configuration")

// Error is one problem in a configuration, with where it was found.
type Error struct {
	// File is the file name as given to Load or Parse.
	File string
	// Line and Column are 1-based; 0 when not known.
	Line, Column int
	// Key is the dotted key path, such as "relay.ports" or
	// "listeners[1].address"; empty for problems with the whole file.
	Key string
	// Msg says what is wrong. It never contains a secret value.
	Msg string
}

// Error formats e as "file:line:column: key: message", leaving out the parts
// that are not known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File != "" {
			b.WriteString(":")
		}
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalid, so that errors.Is(err, ErrInvalid) holds.
func (e *Error) Unwrap() error { return ErrInvalid }
