package credsvc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
)

// postJSON posts body to the service's credentials endpoint with client.
func (s *service) postJSON(client *http.Client, body string) (*http.Response, []byte, error) {
	resp, err := client.Post(s.url+CredentialsPath, "application/json", strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestServerIssuesToTrustedClient(t *testing.T) {
	s := startService(t, nil, nil)
	resp, body, err := s.postJSON(s.httpClient(s.pki.client(trustedApp)), `{"identity":"alice","ttl":"1h"}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	var c Credential
	if err := json.Unmarshal(body, &c); err != nil || c.TTL != 3600 || !strings.HasSuffix(c.Username, ":alice") {
		t.Fatalf("credential %s (%v)", body, err)
	}
	if resp.ProtoMajor != 1 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("protocol %s, TLS %+v", resp.Proto, resp.TLS)
	}
}

// TestServerRefusesAtHandshake covers the clients that never reach the
// handler: each handshake fails and the refusal is logged with its reason.
func TestServerRefusesAtHandshake(t *testing.T) {
	s := startService(t, nil, nil)
	otherCA := newTestPKI(t, s.clk.Now())
	expired := s.pki.issue(pki.ClientAuth, "", []string{trustedApp}, -time.Minute)
	tests := []struct {
		name   string
		config *tls.Config
		reason string
	}{
		{"no client certificate", s.tlsConfig(tls.Certificate{}), "client didn't provide a certificate"},
		{"untrusted CA", s.tlsConfig(otherCA.client(trustedApp)), "certificate signed by unknown authority"},
		{"expired client certificate", s.tlsConfig(expired), "expired"},
		{"server certificate as client certificate", s.tlsConfig(s.pki.server()), "incompatible key usage"},
		{"TLS 1.1", func() *tls.Config {
			c := s.tlsConfig(s.pki.client(trustedApp))
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			return c
		}(), "unsupported versions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Refusals of one IP are logged once a minute.
			s.clk.Advance(refusalLogWindow)
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: tt.config}, Timeout: ioTimeout}
			resp, body, err := s.postJSON(client, `{"identity":"alice"}`)
			if err == nil {
				t.Fatalf("request succeeded: %s %s", resp.Status, body)
			}
			s.log.wait(t, "TLS handshake refused", "peer=127.0.0.1:", tt.reason)
		})
	}
}

func TestServerUnlistedNameForbidden(t *testing.T) {
	s := startService(t, nil, nil)
	resp, body, err := s.postJSON(s.httpClient(s.pki.client("intruder.example.com")), `{"identity":"alice"}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("not on the trusted client list")) {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	s.log.wait(t, "request refused", "status=403", "peer=127.0.0.1:", "intruder.example.com")
}

func TestServerTURNRESTShape(t *testing.T) {
	s := startService(t, nil, nil)
	resp, err := s.httpClient(s.pki.client(trustedApp)).Get(s.url + TURNCredentialsPath + "?service=turn&username=alice&ttl=600")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c RESTCredential
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || resp.StatusCode != 200 || c.TTL != 600 || len(c.URIs) != 3 {
		t.Fatalf("%s: %+v (%v)", resp.Status, c, err)
	}
}

func TestServerSetCertificates(t *testing.T) {
	s := startService(t, nil, nil)
	next := newTestPKI(t, s.clk.Now())
	oldClient, newClient := s.pki.client(trustedApp), next.client(trustedApp)
	if err := s.srv.SetCertificates(next.server(), next.ca.Pool()); err != nil {
		t.Fatal(err)
	}
	// A client that trusts only the new CA and presents a certificate of it.
	cfg := &tls.Config{RootCAs: next.ca.Pool(), ServerName: "127.0.0.1", Certificates: []tls.Certificate{newClient}}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: ioTimeout}
	if resp, body, err := s.postJSON(client, `{"identity":"a"}`); err != nil || resp.StatusCode != 200 {
		t.Fatalf("new certificates: %v %s", err, body)
	}
	cfg = &tls.Config{RootCAs: pool(s.pki.ca.Cert, next.ca.Cert), ServerName: "127.0.0.1", Certificates: []tls.Certificate{oldClient}}
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: ioTimeout}
	if _, _, err := s.postJSON(client, `{"identity":"a"}`); err == nil {
		t.Fatal("a client of the old CA was accepted")
	}
	s.log.wait(t, "TLS handshake refused", "unknown authority")
	if err := s.srv.SetCertificates(tls.Certificate{}, next.ca.Pool()); !errors.Is(err, ErrBadOptions) {
		t.Errorf("SetCertificates without certificate = %v", err)
	}
}

// TestServerMaxConns holds the only connection slot with a finished
// handshake: a second client cannot complete its handshake until the first
// connection closes.
func TestServerMaxConns(t *testing.T) {
	s := startService(t, nil, func(o *ServerOptions) { o.MaxConns = 1 })
	cfg := s.tlsConfig(s.pki.client(trustedApp))
	first, err := tls.Dial("tcp", s.srv.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Handshake(); err != nil {
		t.Fatal(err)
	}
	raw, err := net.DialTimeout("tcp", s.srv.Addr().String(), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	second := tls.Client(raw, cfg)
	_ = raw.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if err := second.Handshake(); err == nil {
		t.Fatal("second handshake completed while the first connection holds the only slot")
	}
	// The second connection waits in the backlog: once accepted, the
	// server would wait for its handshake; close it with the first.
	raw.Close()
	first.Close()
	third, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", s.srv.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("after the first connection closed: %v", err)
	}
	third.Close()
}

// TestServerTimeout: a connection that never starts its handshake is
// closed after the timeout (slowloris).
func TestServerTimeout(t *testing.T) {
	s := startService(t, nil, func(o *ServerOptions) { o.Timeout = 200 * time.Millisecond })
	c, err := net.DialTimeout("tcp", s.srv.Addr().String(), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	start := time.Now()
	if n, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Fatalf("read %d, %v: want the server to close the connection", n, err)
	}
	if d := time.Since(start); d >= ioTimeout {
		t.Fatalf("closed after %v", d)
	}
	s.log.wait(t, "TLS handshake refused", "peer=127.0.0.1:")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestServerHeaderLimit(t *testing.T) {
	s := startService(t, nil, nil)
	req, err := http.NewRequest(http.MethodPost, s.url+CredentialsPath, strings.NewReader(`{"identity":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Padding", strings.Repeat("x", 16<<10))
	resp, err := s.httpClient(s.pki.client(trustedApp)).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %s, want 431", resp.Status)
	}
}

func TestServerShutdown(t *testing.T) {
	s := startService(t, nil, nil)
	addr := s.srv.Addr()
	if err := s.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr.String(), ioTimeout); err == nil {
		c.Close()
		t.Fatal("listener still open after Shutdown")
	}
}

func TestNewServerOptions(t *testing.T) {
	p := newTestPKI(t, time.Now())
	h := http.NotFoundHandler()
	good := ServerOptions{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Certificate: p.server(), ClientCAs: p.ca.Pool(), Handler: h}
	for name, mod := range map[string]func(*ServerOptions){
		"no handler":       func(o *ServerOptions) { o.Handler = nil },
		"no address":       func(o *ServerOptions) { o.Addr = netip.AddrPort{} },
		"no certificate":   func(o *ServerOptions) { o.Certificate = tls.Certificate{} },
		"no client CAs":    func(o *ServerOptions) { o.ClientCAs = nil },
		"negative limit":   func(o *ServerOptions) { o.MaxConns = -1 },
		"negative timeout": func(o *ServerOptions) { o.Timeout = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			o := good
			mod(&o)
			if _, err := NewServer(o); !errors.Is(err, ErrBadOptions) {
				t.Errorf("NewServer = %v, want ErrBadOptions", err)
			}
		})
	}
	// A port in use.
	srv, err := NewServer(good)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	busy := good
	busy.Addr = srv.Addr()
	if _, err := NewServer(busy); err == nil || errors.Is(err, ErrBadOptions) {
		t.Errorf("NewServer on a bound port = %v", err)
	}
}

// TestServerPlainHTTP: a client speaking plain HTTP to the TLS port is
// told so, and the refusal is logged.
func TestServerPlainHTTP(t *testing.T) {
	s := startService(t, nil, nil)
	c, err := net.DialTimeout("tcp", s.srv.Addr().String(), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%v %v", resp, err)
	}
	s.log.wait(t, "TLS handshake refused", "client sent an HTTP request to an HTTPS server")
}
