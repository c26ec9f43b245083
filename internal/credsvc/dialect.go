package credsvc

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/avedge/avedge/internal/netx"
)

// A Dialect is a protocol the Server speaks on its port beside HTTP,
// under the same client certificate rules: after the TLS handshake, the
// Server shows it the first bytes of each connection, and serves those it
// claims with it. mras.Service, MRAS of [MS-AVEDGEA], is one.
type Dialect interface {
	// Sniff tells from the first bytes a client sent whether the
	// connection speaks the dialect; SniffUndecided asks for more (at
	// most 64 bytes are shown: the connection is HTTP if still
	// undecided then).
	Sniff(p []byte) Sniffed
	// Serve serves a claimed connection until it ends; the Server closes
	// it afterwards.
	Serve(c *Conn)
}

// Sniffed is a Dialect's verdict on the first bytes of a connection.
type Sniffed uint8

// The verdicts of Dialect.Sniff.
const (
	SniffUndecided Sniffed = iota // the bytes are a prefix of both
	SniffHTTP                     // the connection is HTTP
	SniffClaimed                  // the connection speaks the dialect
)

// Conn is a connection a Dialect serves, its TLS handshake done: Read
// returns the bytes sniffed first. The Server tracks it for shutdown.
type Conn struct {
	netx.PrefixConn
	state *tls.ConnectionState
	raw   net.Conn // the TCP connection under the TLS one, as the Server tracks it
	srv   *Server
}

// Idle marks the connection idle, waiting for a request: Shutdown closes
// it at once, and it is closed after 60 seconds. It reports false when
// the Server is shutting down: the Dialect then returns.
func (c *Conn) Idle() bool {
	if !c.srv.conns.Idle(c.raw) {
		return false
	}
	_ = c.SetDeadline(time.Now().Add(idleTimeout))
	return true
}

// Busy marks the connection busy with a request: Shutdown lets it finish,
// and reading the request and writing the answer must take no longer
// than the Server's timeout.
func (c *Conn) Busy() {
	c.srv.conns.Busy(c.raw)
	_ = c.SetDeadline(time.Now().Add(c.srv.timeout))
}

// Verify verifies the client certificate of the connection again against
// the current client CAs and time, as the Server does before every HTTP
// request, and returns the TLS state with the chains verified now.
func (c *Conn) Verify() (*tls.ConnectionState, error) {
	return c.srv.reverifyState(c.state)
}

// Refuse counts a request the Dialect refused before its Handler saw it
// (an unreadable request, a client certificate that no longer verifies)
// in the Server's Stats, and logs it as the Server's refusals are.
func (c *Conn) Refuse(r Refusal) {
	refuseRequest(c.srv.refusal, &c.srv.counts, r)
}
