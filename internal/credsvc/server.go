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
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	Addr netip.AddrPort
	// Certificate is the server's certificate (chain) and key.
	Certificate tls.Certificate
	// ClientCAs are the certificates client certificates must chain to.
	ClientCAs *x509.CertPool
	// Handler answers the requests, normally a *Handler.
	Handler http.Handler
	// MaxConns bounds the open connections; 0 means 256. Further
	// connections wait in the kernel's backlog.
	MaxConns int
	// MaxConnsPerIP bounds the open connections of one source IP; 0 means
	// 16. Further connections from that IP are closed at once, so that one
	// peer cannot take every slot.
	MaxConnsPerIP int
	// Timeout bounds the TLS handshake with reading a request, and writing
	// a response; 0 means 10s. Idle connections are closed after 60s.
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
// required, verified client certificate.
type Server struct {
	ln      *limitListener
	srv     *http.Server
	addr    netip.AddrPort
	clk     clock.Clock
	handler http.Handler
	refusal *refusalLog
	tls     atomic.Pointer[tls.Config]
	counts  requestCounts // refusals of reverify
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
	s := &Server{clk: opts.Clock, handler: opts.Handler, refusal: newRefusalLog(opts.Logger, opts.Clock)}
	if err := s.SetCertificates(opts.Certificate, opts.ClientCAs); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr.String())
	if err != nil {
		return nil, fmt.Errorf("credsvc: %w", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr).AddrPort()
	s.ln = newLimitListener(ln, opts.MaxConns, opts.MaxConnsPerIP, s.refusal)
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
		ErrorLog:          newErrorLog(opts.Logger, s.refusal),
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
// closes the connections. Run returns nil after such a shutdown.
func (s *Server) Run(ctx context.Context) error {
	base := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.tls.Load(), nil
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(tls.NewListener(s.ln, base)) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("credsvc: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := s.Shutdown(sctx)
	<-errc
	return err
}

// Shutdown stops the server gracefully: it closes the listener, waits
// until the requests in progress are answered or ctx is done, and then
// closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	_ = s.ln.Close() // in case Run never started Serve
	if err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("credsvc: shutdown: %w", err)
	}
	return nil
}
