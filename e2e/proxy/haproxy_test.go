package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/e2e/internal/haproxy"
	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/e2e/internal/proc"
	"github.com/avedge/avedge/e2e/internal/recordfile"
	"github.com/avedge/avedge/e2e/internal/shipped"
)

const (
	// ioTimeout bounds every network wait of the tests.
	ioTimeout = 10 * time.Second
	// adminToken is the edge's admin token.
	adminToken = "proxy-test-admin-token-0123456789"
	// turnName and webName are the TLS server names HAProxy routes by.
	turnName, webName = "turn.test", "web.test"
	// webAnswer is what the web application answers.
	webAnswer = "the web application"
)

// edgeConfig is the edge's configuration: a TLS listener behind HAProxy
// on 127.0.0.1, records to a file, the admin listener.
const edgeConfig = `realm: proxy.avedge.test
listeners:
  - protocol: tls
    address: 127.0.0.1:%d
    tls: {cert_file: pki/service.crt, key_file: pki/service.key}
    proxy_protocol: v2
    trusted_proxies: [127.0.0.1]
relay:
  address: 127.0.0.1
  ports: 39600-39663
auth:
  secrets:
    - {id: proxy, secret: proxy-test-secret-0123456789abcdef}
peers:
  allow: [127.0.0.0/8]
records:
  output: records.jsonl
admin:
  listen: 127.0.0.1:%d
  token_file: admin.token
`

// setup is an edge behind HAProxy with a web application beside it.
type setup struct {
	dir                string
	front, edge, admin netip.AddrPort
	roots              *x509.CertPool
	avedge             string
}

// newSetup writes the PKI and configurations, and starts the web
// application, the edge and HAProxy.
func newSetup(t *testing.T) *setup {
	t.Helper()
	haproxyBin := haproxy.Path(t)
	s := &setup{dir: t.TempDir(), avedge: shipped.Build(t, "cmd/avedge")}
	lo := netip.MustParseAddr("127.0.0.1")
	s.front = netip.AddrPortFrom(lo, uint16(loopback.FreePort(t)))
	s.edge = netip.AddrPortFrom(lo, uint16(loopback.FreePort(t)))
	s.admin = netip.AddrPortFrom(lo, uint16(loopback.FreePort(t)))
	env := append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.avedge, "pki", "dev", "--new-ca", "--out", filepath.Join(s.dir, "pki"),
		"--server-name", turnName+","+webName).CombinedOutput()
	if err != nil {
		t.Fatalf("avedge pki dev: %v\n%s", err, out)
	}
	ca, err := os.ReadFile(filepath.Join(s.dir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	s.roots = x509.NewCertPool()
	if !s.roots.AppendCertsFromPEM(ca) {
		t.Fatal("pki/ca.crt holds no certificate")
	}
	s.write(t, "admin.token", adminToken+"\n")
	s.write(t, "edge.yaml", fmt.Sprintf(edgeConfig, s.edge.Port(), s.admin.Port()))

	web := s.startWeb(t)
	edge := proc.Start(t, "serving", env, s.avedge, "serve", "--config", filepath.Join(s.dir, "edge.yaml"))
	edge.WaitReady(t, 30*time.Second)
	// turn.test goes to the edge with the PROXY protocol v2, anything
	// else to the web application.
	haproxy.Start(t, haproxyBin, haproxy.SNIConfig(s.front.String(),
		haproxy.Backend{Name: "avedge", SNI: turnName, Server: s.edge.String(), ProxyV2: true},
		haproxy.Backend{Name: "web", Server: web.String()}), s.front.String())
	return s
}

// write writes a file of the test's directory.
func (s *setup) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startWeb starts the web application: HTTPS on loopback with the
// certificate for web.test. Its handshake errors are dropped: HAProxy
// sends it the probe connections of haproxy.Start, which say nothing.
func (s *setup) startWeb(t *testing.T) netip.AddrPort {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(s.dir, "pki", "service.crt"), filepath.Join(s.dir, "pki", "service.key"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, webAnswer)
	}), ReadHeaderTimeout: ioTimeout, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).AddrPort()
}

// dialFront opens TLS to HAProxy's port as name from the loopback address
// from.
func (s *setup) dialFront(t *testing.T, from, name string) *tls.Conn {
	t.Helper()
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: ioTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}},
		Config:    &tls.Config{RootCAs: s.roots, ServerName: name, MinVersion: tls.VersionTLS12},
	}
	c, err := d.Dial("tcp", s.front.String())
	if err != nil {
		t.Fatalf("TLS to %v as %s: %v", s.front, name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*tls.Conn)
}

// credential is the output of "avedge creds issue".
type credential struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Realm    string `json:"realm"`
}

// issue issues a credential for identity with the edge's secret.
func (s *setup) issue(t *testing.T, identity string) credential {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.avedge, "creds", "issue", "--config", filepath.Join(s.dir, "edge.yaml"),
		"--user", identity).Output()
	var c credential
	if err != nil || json.Unmarshal(out, &c) != nil {
		t.Fatalf("creds issue: %v: %q", err, out)
	}
	return c
}

// adminGet returns the body of an admin path, with the token.
func (s *setup) adminGet(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.admin.String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := (&http.Client{Timeout: ioTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", path, resp.Status, err, b)
	}
	return string(b)
}

// TestHAProxySNI: HAProxy shares its TLS port between the web application
// and the edge by SNI; the web name gets the web application, the TURN
// name a relay whose sessions and records name the client's own address
// (127.0.0.3), not HAProxy's (127.0.0.1); a forged PROXY header straight
// to the edge from an untrusted address (127.0.0.4) is refused and counted.
func TestHAProxySNI(t *testing.T) {
	s := newSetup(t)

	t.Run("web name reaches the web application", func(t *testing.T) {
		c := s.dialFront(t, "127.0.0.3", webName)
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", webName); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(b) != webAnswer {
			t.Fatalf("web answer %s %q, want 200 %q", resp.Status, b, webAnswer)
		}
	})

	t.Run("TURN over TLS through HAProxy sees the client", func(t *testing.T) {
		conn := s.dialFront(t, "127.0.0.3", turnName)
		client := conn.LocalAddr().(*net.TCPAddr).AddrPort()
		cred := s.issue(t, "alice")
		lf := logging.NewDefaultLoggerFactory()
		lf.DefaultLogLevel = logging.LogLevelError
		tc, err := turn.NewClient(&turn.ClientConfig{
			STUNServerAddr: s.front.String(), TURNServerAddr: s.front.String(), Conn: turn.NewSTUNConn(conn),
			Username: cred.Username, Password: cred.Password, Realm: cred.Realm, LoggerFactory: lf,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if err := tc.Listen(); err != nil {
			t.Fatal(err)
		}
		mapped, err := tc.SendBindingRequest()
		if err != nil {
			t.Fatalf("binding: %v", err)
		}
		if got := mapped.(*net.UDPAddr).AddrPort(); got != client {
			t.Errorf("XOR-MAPPED-ADDRESS %v, want the client's own %v", got, client)
		}
		relay, err := tc.Allocate()
		if err != nil {
			t.Fatalf("allocate: %v", err)
		}
		echo := loopback.UDPEcho(t, "127.0.0.2").LocalAddr().(*net.UDPAddr).AddrPort()
		for i := range 5 {
			msg := []byte(fmt.Sprintf("round %d", i))
			if _, err := relay.WriteTo(msg, net.UDPAddrFromAddrPort(echo)); err != nil {
				t.Fatal(err)
			}
			_ = relay.SetReadDeadline(time.Now().Add(ioTimeout))
			b := make([]byte, 64)
			n, from, err := relay.ReadFrom(b)
			if err != nil || string(b[:n]) != string(msg) || from.(*net.UDPAddr).AddrPort() != echo {
				t.Fatalf("echo %q from %v (%v), want %q from %v", b[:n], from, err, msg, echo)
			}
		}

		var list struct {
			Sessions []struct {
				Client    string `json:"client"`
				Transport string `json:"transport"`
			} `json:"sessions"`
		}
		if err := json.Unmarshal([]byte(s.adminGet(t, "/sessions")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Sessions) != 1 || list.Sessions[0].Client != client.String() || list.Sessions[0].Transport != "tls" {
			t.Fatalf("sessions %+v, want one over tls from %v", list.Sessions, client)
		}

		_ = relay.Close()
		tc.Close()
		conn.Close()
		rec := recordfile.WaitEnd(t, filepath.Join(s.dir, "records.jsonl"), func(l []recordfile.Line) bool { return len(l) > 0 }, ioTimeout)[0]
		if rec.Client != client.String() {
			t.Fatalf("record client %q, want %v", rec.Client, client)
		}
	})

	t.Run("forged header from an untrusted address", func(t *testing.T) {
		d := net.Dialer{Timeout: ioTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.4")}}
		c, err := d.Dial("tcp", s.edge.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write(forgedHeader(netip.MustParseAddrPort("192.0.2.7:40000"), s.edge))
		tc := tls.Client(c, &tls.Config{RootCAs: s.roots, ServerName: turnName, MinVersion: tls.VersionTLS12})
		_ = tc.SetDeadline(time.Now().Add(ioTimeout))
		if err := tc.Handshake(); err == nil {
			t.Fatal("TLS handshake with the edge succeeded after a forged header from an untrusted address")
		}
		want := `avedge_stream_proxy_refused_total{reason="untrusted"} 1`
		if m := s.adminGet(t, "/metrics"); !strings.Contains(m, want+"\n") {
			t.Fatalf("/metrics lacks %s:\n%s", want, grepLines(m, "avedge_stream_proxy"))
		}
	})
}

// forgedHeader is a PROXY protocol v2 header naming client.
func forgedHeader(client, dst netip.AddrPort) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	b = append(b, client.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, client.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
