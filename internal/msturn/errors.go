package msturn

import "errors"

// Sentinel errors. They are returned unwrapped, so that failure paths do
// not allocate either.
var (
	// ErrNotMSTURN: the bytes are not an MS-TURN message (header, length
	// or leading MAGIC-COOKIE attribute wrong).
	ErrNotMSTURN = errors.New("msturn: not an MS-TURN message")
	// ErrTruncated: an attribute runs past the end of the message.
	ErrTruncated = errors.New("msturn: attribute truncated")
	// ErrTooManyAttributes: more attributes than a Message holds.
	ErrTooManyAttributes = errors.New("msturn: too many attributes")
	// ErrNotFound: the attribute is absent.
	ErrNotFound = errors.New("msturn: attribute not found")
	// ErrMalformed: the attribute's value has the wrong size or content.
	ErrMalformed = errors.New("msturn: malformed attribute")
	// ErrShortBuffer: the destination buffer cannot hold the message.
	ErrShortBuffer = errors.New("msturn: buffer too short")
	// ErrIntegrity: MESSAGE-INTEGRITY is missing or does not verify.
	ErrIntegrity = errors.New("msturn: message integrity check failed")
)
