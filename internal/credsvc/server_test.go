package credsvc_test

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

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
	"github.com/avedge/avedge/internal/pki"
)

func TestServerIssuesToTrustedClient(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	resp, body, err := s.PostJSON(s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp)), `{"identity":"alice","ttl":"1h"}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	var c credsvc.Credential
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
	s := credsvctest.StartService(t, nil, nil)
	otherCA := credsvctest.NewPKI(t, s.Clock.Now())
	expired := s.PKI.Issue(pki.ClientAuth, "", []string{credsvctest.TrustedApp}, -time.Minute)
	tests := []struct {
		name   string
		config *tls.Config
		reason string
	}{
		{"no client certificate", s.TLSConfig(tls.Certificate{}), "client didn't provide a certificate"},
		{"untrusted CA", s.TLSConfig(otherCA.Client(credsvctest.TrustedApp)), "certificate signed by unknown authority"},
		{"expired client certificate", s.TLSConfig(expired), "expired"},
		{"server certificate as client certificate", s.TLSConfig(s.PKI.Server()), "incompatible key usage"},
		{"TLS 1.1", func() *tls.Config {
			c := s.TLSConfig(s.PKI.Client(credsvctest.TrustedApp))
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			return c
		}(), "unsupported versions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Refusals of one IP are logged once a minute.
			s.Clock.Advance(credsvc.RefusalLogWindow)
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: tt.config}, Timeout: credsvctest.IOTimeout}
			resp, body, err := s.PostJSON(client, `{"identity":"alice"}`)
			if err == nil {
				t.Fatalf("request succeeded: %s %s", resp.Status, body)
			}
			s.Log.Wait(t, "TLS handshake refused", "peer=127.0.0.1:", tt.reason)
		})
	}
}

func TestServerUnlistedNameForbidden(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	resp, body, err := s.PostJSON(s.HTTPClient(s.PKI.Client("intruder.example.com")), `{"identity":"alice"}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("not on the trusted client list")) {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	s.Log.Wait(t, "request refused", "status=403", "peer=127.0.0.1:", "intruder.example.com")
}

func TestServerTURNRESTShape(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	resp, err := s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp)).Get(s.URL + credsvc.TURNCredentialsPath + "?service=turn&username=alice&ttl=600")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c credsvc.RESTCredential
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || resp.StatusCode != 200 || c.TTL != 600 || len(c.URIs) != 3 {
		t.Fatalf("%s: %+v (%v)", resp.Status, c, err)
	}
}

func TestServerSetCertificates(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	next := credsvctest.NewPKI(t, s.Clock.Now())
	oldClient, newClient := s.PKI.Client(credsvctest.TrustedApp), next.Client(credsvctest.TrustedApp)
	if err := s.Server.SetCertificates(next.Server(), next.CA.Pool()); err != nil {
		t.Fatal(err)
	}
	// A client that trusts only the new CA and presents a certificate of it.
	cfg := &tls.Config{RootCAs: next.CA.Pool(), ServerName: "127.0.0.1", Certificates: []tls.Certificate{newClient}}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: credsvctest.IOTimeout}
	if resp, body, err := s.PostJSON(client, `{"identity":"a"}`); err != nil || resp.StatusCode != 200 {
		t.Fatalf("new certificates: %v %s", err, body)
	}
	cfg = &tls.Config{RootCAs: credsvctest.Pool(s.PKI.CA.Cert, next.CA.Cert), ServerName: "127.0.0.1", Certificates: []tls.Certificate{oldClient}}
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: credsvctest.IOTimeout}
	if _, _, err := s.PostJSON(client, `{"identity":"a"}`); err == nil {
		t.Fatal("a client of the old CA was accepted")
	}
	s.Log.Wait(t, "TLS handshake refused", "unknown authority")
	if err := s.Server.SetCertificates(tls.Certificate{}, next.CA.Pool()); !errors.Is(err, credsvc.ErrBadOptions) {
		t.Errorf("SetCertificates without certificate = %v", err)
	}
}

// TestServerMaxConns holds the only connection slot with a finished
// handshake: a second client cannot complete its handshake until the first
// connection closes.
func TestServerMaxConns(t *testing.T) {
	s := credsvctest.StartService(t, nil, func(o *credsvc.ServerOptions) { o.MaxConns = 1 })
	cfg := s.TLSConfig(s.PKI.Client(credsvctest.TrustedApp))
	first, err := tls.Dial("tcp", s.Server.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Handshake(); err != nil {
		t.Fatal(err)
	}
	raw, err := net.DialTimeout("tcp", s.Server.Addr().String(), credsvctest.IOTimeout)
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
	third, err := tls.DialWithDialer(&net.Dialer{Timeout: credsvctest.IOTimeout}, "tcp", s.Server.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("after the first connection closed: %v", err)
	}
	third.Close()
}

// TestServerTimeout: a connection that never starts its handshake is
// closed after the timeout (slowloris).
func TestServerTimeout(t *testing.T) {
	s := credsvctest.StartService(t, nil, func(o *credsvc.ServerOptions) { o.Timeout = 200 * time.Millisecond })
	c, err := net.DialTimeout("tcp", s.Server.Addr().String(), credsvctest.IOTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(credsvctest.IOTimeout))
	start := time.Now()
	if n, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Fatalf("read %d, %v: want the server to close the connection", n, err)
	}
	if d := time.Since(start); d >= credsvctest.IOTimeout {
		t.Fatalf("closed after %v", d)
	}
	s.Log.Wait(t, "TLS handshake refused", "peer=127.0.0.1:")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestServerHeaderLimit(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	req, err := http.NewRequest(http.MethodPost, s.URL+credsvc.CredentialsPath, strings.NewReader(`{"identity":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Padding", strings.Repeat("x", 16<<10))
	resp, err := s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp)).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %s, want 431", resp.Status)
	}
}

func TestServerShutdown(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	addr := s.Server.Addr()
	if err := s.Server.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr.String(), credsvctest.IOTimeout); err == nil {
		c.Close()
		t.Fatal("listener still open after Shutdown")
	}
}

func TestNewServerOptions(t *testing.T) {
	p := credsvctest.NewPKI(t, time.Now())
	h := http.NotFoundHandler()
	good := credsvc.ServerOptions{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Certificate: p.Server(), ClientCAs: p.CA.Pool(), Handler: h}
	for name, mod := range map[string]func(*credsvc.ServerOptions){
		"no handler":       func(o *credsvc.ServerOptions) { o.Handler = nil },
		"no address":       func(o *credsvc.ServerOptions) { o.Addr = netip.AddrPort{} },
		"no certificate":   func(o *credsvc.ServerOptions) { o.Certificate = tls.Certificate{} },
		"no client CAs":    func(o *credsvc.ServerOptions) { o.ClientCAs = nil },
		"negative limit":   func(o *credsvc.ServerOptions) { o.MaxConns = -1 },
		"negative timeout": func(o *credsvc.ServerOptions) { o.Timeout = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			o := good
			mod(&o)
			if _, err := credsvc.NewServer(o); !errors.Is(err, credsvc.ErrBadOptions) {
				t.Errorf("NewServer = %v, want ErrBadOptions", err)
			}
		})
	}
	// A port in use.
	srv, err := credsvc.NewServer(good)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	busy := good
	busy.Addr = srv.Addr()
	if _, err := credsvc.NewServer(busy); err == nil || errors.Is(err, credsvc.ErrBadOptions) {
		t.Errorf("NewServer on a bound port = %v", err)
	}
}

// TestServerPlainHTTP: a client speaking plain HTTP to the TLS port is
// told so, and the refusal is logged.
func TestServerPlainHTTP(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	c, err := net.DialTimeout("tcp", s.Server.Addr().String(), credsvctest.IOTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(credsvctest.IOTimeout))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%v %v", resp, err)
	}
	s.Log.Wait(t, "TLS handshake refused", "client sent an HTTP request to an HTTPS server")
}
