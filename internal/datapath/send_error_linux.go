package datapath

import "golang.org/x/sys/unix"

// sendError is the error WriteTo returns when sendto(2) or sendmsg(2) fails
// for a reason other than EAGAIN. It is a one-word value so that returning it
// does not allocate (errno values are small), yet it matches ErrSend and the
// system error with errors.Is.
type sendError struct {
	errno unix.Errno
}

// Error describes the failure.
func (e sendError) Error() string {
	return ErrSend.Error() + ": " + e.errno.Error()
}

// Is reports whether target is ErrSend.
func (e sendError) Is(target error) bool { return target == ErrSend }

// Unwrap returns the system error.
func (e sendError) Unwrap() error { return e.errno }
