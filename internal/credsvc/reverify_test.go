package credsvc_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// rawRequest writes a POST of body on conn and reads the answer.
func rawRequest(t *testing.T, conn net.Conn, br *bufio.Reader, body string) (*http.Response, string) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(credsvctest.IOTimeout))
	req, err := http.NewRequest(http.MethodPost, "https://127.0.0.1"+credsvc.CredentialsPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestServerReverifiesOnKeptAliveConnection: removing the client's CA cuts
// off its open connection at the next request.
func TestServerReverifiesOnKeptAliveConnection(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	conn, err := tls.Dial("tcp", s.Server.Addr().String(), s.TLSConfig(s.PKI.Client(credsvctest.TrustedApp)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if resp, body := rawRequest(t, conn, br, `{"identity":"a"}`); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("before the reload: %s (close %v) %s", resp.Status, resp.Close, body)
	}
	other := credsvctest.NewPKI(t, s.Clock.Now())
	if err := s.Server.SetCertificates(s.PKI.Server(), other.CA.Pool()); err != nil {
		t.Fatal(err)
	}
	resp, body := rawRequest(t, conn, br, `{"identity":"a"}`)
	if resp.StatusCode != http.StatusForbidden || !resp.Close || !strings.Contains(body, "no longer verifies") {
		t.Fatalf("after the CA was removed: %s (close %v) %s", resp.Status, resp.Close, body)
	}
	s.Log.Wait(t, "request refused", "status=403", "unknown authority")
	// The server closed the connection.
	_ = conn.SetReadDeadline(time.Now().Add(credsvctest.IOTimeout))
	if n, err := br.Read(make([]byte, 1)); err == nil {
		t.Errorf("connection still open (read %d bytes)", n)
	}
}

// TestServerReverifiesValidity: a kept-alive connection's certificate is
// checked against the injected clock on every request.
func TestServerReverifiesValidity(t *testing.T) {
	s := credsvctest.StartService(t, nil, nil)
	conn, err := tls.Dial("tcp", s.Server.Addr().String(), s.TLSConfig(s.PKI.Client(credsvctest.TrustedApp)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if resp, body := rawRequest(t, conn, br, `{"identity":"a"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s", resp.Status, body)
	}
	s.Clock.Advance(31 * 24 * time.Hour) // past the client certificate's expiry
	if resp, body := rawRequest(t, conn, br, `{"identity":"a"}`); resp.StatusCode != http.StatusForbidden || !resp.Close {
		t.Fatalf("expired certificate: %s (close %v) %s", resp.Status, resp.Close, body)
	}
}

// TestServerMaxConnsPerIP: one source holds at most MaxConnsPerIP
// connections; a further one is closed at once and logged (that IPv6
// sources count per /64 is netx.Listener's TestListenerPerSource64).
func TestServerMaxConnsPerIP(t *testing.T) {
	s := credsvctest.StartService(t, nil, func(o *credsvc.ServerOptions) { o.MaxConnsPerIP = 2 })
	cfg := s.TLSConfig(s.PKI.Client(credsvctest.TrustedApp))
	dial := func() (*tls.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: credsvctest.IOTimeout}, "tcp", s.Server.Addr().String(), cfg)
	}
	var open []*tls.Conn
	for range 2 {
		c, err := dial()
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	if c, err := dial(); err == nil {
		// TLS 1.3 completes the client side before the server's checks:
		// the server must still have closed it.
		_ = c.SetReadDeadline(time.Now().Add(credsvctest.IOTimeout))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("third connection from one IP was served")
		}
		c.Close()
	}
	s.Log.Wait(t, "connection refused", "too many connections from this source", "peer=127.0.0.1:")
	for _, c := range open {
		c.Close()
	}
}
