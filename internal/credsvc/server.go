package credsvc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/netx"
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	Addr netip.AddrPort
	// Certificate is the server's certificate (chain) and key.
	Certificate tls.Certificate
	// ClientCAs are the certificates client certificates must chain to.
	ClientCAs *x509.CertPool
	// Handler answers the HTTP requests, normally a *Handler.
	Handler http.Handler
	// MRAS, when set, answers the connections it claims on the same port
	// in its dialect: an *mras.Service answers MRAS ([MS-AVEDGEA]) with
	// the same *Handler. Nil makes every connection HTTP: MRAS requests
	// then get the HTTP server's 400.
	MRAS Dialect
	// MaxConns bounds the open connections; 0 means 256. Further
	// connections wait in the kernel's backlog.
	MaxConns int
	// MaxConnsPerIP bounds the open connections of one source, an IPv4
	// address or an IPv6 /64 (netx.Source); 0 means 16. Further
	// connections from that source are closed at once, so that one peer
	// cannot take every slot.
	MaxConnsPerIP int
	// Timeout bounds the TLS handshake with the first bytes of a
	// connection, the reading of each request, and the writing of each
	// response; 0 means 10s. Idle connections (HTTP and a Dialect's) are closed
	// after 60s.
	Timeout time.Duration
	// Clock tells the time for certificate validity; nil means the wall
	// clock.
	Clock clock.Clock
	// Logger receives refused handshakes and server errors; nil discards
	// them.
	Logger *slog.Logger
}

const (
	defaultMaxConns = 256
	// defaultMaxConnsPerIP is the default of ServerOptions.MaxConnsPerIP.
	defaultMaxConnsPerIP = 16
	defaultTimeout       = 10 * time.Second
	idleTimeout          = 60 * time.Second
	// maxHeaderBytes bounds a request's header; the service's requests
	// need a few hundred bytes.
	maxHeaderBytes = 8 << 10
	// shutdownGrace is how long Run lets requests in progress finish.
	shutdownGrace = 5 * time.Second
)

// Server serves a Handler over HTTPS (HTTP/1.1, TLS 1.2 or later) with a
// required, verified client certificate. With a Dialect (ServerOptions.MRAS)
// the same port also answers that dialect over the same kind of
// connection, told apart from HTTP by its first bytes, under the same
// client rules.
type Server struct {
	ln      *netx.Listener
	httpLn  *handoffListener
	srv     *http.Server
	addr    netip.AddrPort
	clk     clock.Clock
	timeout time.Duration
	handler http.Handler
	dialect Dialect // ServerOptions.MRAS; nil: every connection is HTTP
	refusal *refusalLog
	log     *slog.Logger
	tls     atomic.Pointer[tls.Config]
	base    *tls.Config   // takes the current configuration from tls
	conns   netx.Tracker  // connections the Server serves itself: see serveConn
	counts  requestCounts // refusals of reverify and of the Dialect (Conn.Refuse)
}

// NewServer checks opts and binds the listener; Run serves on it.
func NewServer(opts ServerOptions) (*Server, error) {
	switch {
	case opts.Handler == nil:
		return nil, fmt.Errorf("%w: no handler", ErrBadOptions)
	case !opts.Addr.IsValid():
		return nil, fmt.Errorf("%w: no listen address", ErrBadOptions)
	case opts.MaxConns < 0 || opts.MaxConnsPerIP < 0 || opts.Timeout < 0:
		return nil, fmt.Errorf("%w: negative limit", ErrBadOptions)
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = defaultMaxConns
	}
	if opts.MaxConnsPerIP == 0 {
		opts.MaxConnsPerIP = defaultMaxConnsPerIP
	}
	if opts.Timeout == 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{clk: opts.Clock, timeout: opts.Timeout, handler: opts.Handler, log: opts.Logger,
		dialect: opts.MRAS, refusal: newRefusalLog(opts.Logger, opts.Clock)}
	if err := s.SetCertificates(opts.Certificate, opts.ClientCAs); err != nil {
		return nil, err
	}
	s.base = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.tls.Load(), nil
		},
	}
	lim, err := netx.NewLimiter(opts.MaxConns, opts.MaxConnsPerIP)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	ln, err := net.Listen("tcp", opts.Addr.String())
	if err != nil {
		return nil, fmt.Errorf("credsvc: %w", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr).AddrPort()
	s.ln = netx.NewListener(ln, lim, s.connRefused)
	s.httpLn = newHandoffListener(ln.Addr())
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.reverify),
		Protocols:         &protocols,
		ReadHeaderTimeout: opts.Timeout,
		ReadTimeout:       opts.Timeout,
		WriteTimeout:      opts.Timeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          newErrorLog(opts.Logger),
		ConnContext:       connContext,
	}
	return s, nil
}

// Addr returns the bound address.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// SetCertificates replaces the server certificate and the client CAs, for
// example on reload. New handshakes use them; open connections keep their
// server certificate until they close, but every request's client
// certificate is verified again against the current client CAs, so a
// removed CA cuts off its clients' open connections at their next request
// (403, and the connection is closed).
func (s *Server) SetCertificates(cert tls.Certificate, clientCAs *x509.CertPool) error {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return fmt.Errorf("%w: no server certificate", ErrBadOptions)
	}
	if clientCAs == nil {
		return fmt.Errorf("%w: no client CAs", ErrBadOptions)
	}
	s.tls.Store(&tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
		Time:         s.clk.Now,
		NextProtos:   []string{"http/1.1"},
		// Every connection proves its certificate again: a resumed session
		// would skip verification against replaced client CAs.
		SessionTicketsDisabled: true,
	})
	return nil
}

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in progress finish for up to 5 seconds and
// closes the connections. Run returns nil after such a shutdown, also one
// that Shutdown started.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() {
		err := s.srv.Serve(s.httpLn)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	go func() { errc <- s.accept() }()
	running := 2
	var err error
	select {
	case err = <-errc:
		running--
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	serr := s.Shutdown(sctx)
	for ; running > 0; running-- {
		if e := <-errc; err == nil {
			err = e
		}
	}
	if err != nil {
		return fmt.Errorf("credsvc: %w", err)
	}
	return serr
}

// acceptRetryMax bounds the pause after a failed Accept (such as too many
// open files), as net/http's.
const acceptRetryMax = time.Second

// accept accepts connections and serves each in its own goroutine until
// the listener closes, when it returns nil. Other Accept errors are logged
// and retried after a pause growing from 5ms to acceptRetryMax.
func (s *Server) accept() error {
	var pause time.Duration
	for {
		c, err := s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			pause = min(max(2*pause, 5*time.Millisecond), acceptRetryMax)
			s.log.Warn("credential service: accept failed", slog.Any("err", err), slog.Duration("retry_in", pause))
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-s.ln.Done():
				t.Stop()
				return nil
			}
			continue
		}
		pause = 0
		if !s.conns.Add(c) {
			_ = c.Close()
			return nil
		}
		go s.serveConn(c)
	}
}

// Shutdown stops the server gracefully: it closes the listener and the
// idle connections, waits until the requests in progress are answered or
// ctx is done, and then closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.ln.Close()
	s.conns.Shutdown()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if werr := s.conns.Wait(ctx); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("credsvc: shutdown: %w", err)
	}
	return nil
}

// connRefused logs a connection the listener closed for its source's
// limit.
func (s *Server) connRefused(remote net.Addr, _ error) {
	peer := remote.String()
	s.refusal.warn(peer, "credential service: connection refused", slog.String("peer", peer),
		slog.String("reason", "too many connections from this source (IPv4 address or IPv6 /64)"))
}
