package netx

import (
	"errors"
	"fmt"
	"net"
)

// PrefixConn is a connection whose first bytes were read already, to tell
// its protocol: Read returns Prefix first and then reads on from Conn, so
// that the server of that protocol sees the connection whole.
type PrefixConn struct {
	net.Conn
	// Prefix holds the bytes still to replay.
	Prefix []byte
}

// Read reads the bytes of Prefix not read yet, and then from Conn.
func (c *PrefixConn) Read(p []byte) (int, error) {
	if len(c.Prefix) > 0 {
		n := copy(p, c.Prefix)
		c.Prefix = c.Prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite shuts down the writing side of Conn, as net/http does before
// closing a connection, when Conn has one (a *net.TCPConn, a *tls.Conn);
// otherwise it returns an error wrapping errors.ErrUnsupported.
func (c *PrefixConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("netx: CloseWrite on %T: %w", c.Conn, errors.ErrUnsupported)
	}
	return cw.CloseWrite()
}
