package probe

import (
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"
)

func TestCertResult(t *testing.T) {
	ca := newCA(t, "probe test CA")
	now := time.Now()
	cert := func(names []string, from, to time.Time) []*x509.Certificate {
		return []*x509.Certificate{leaf(t, ca, names, from, to).Leaf}
	}
	good := cert([]string{"edge.example.com", "192.0.2.1"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	for _, tc := range []struct {
		name   string
		certs  []*x509.Certificate
		host   string
		roots  *x509.CertPool
		now    time.Time
		status Status
		text   string
	}{
		{"good", good, "edge.example.com", ca.Pool(), now, Pass, "names edge.example.com 192.0.2.1; chain edge.example.com ← probe test CA"},
		{"good IP", good, "192.0.2.1", ca.Pool(), now, Pass, ""},
		{"expires soon", cert([]string{"edge.example.com"}, now.Add(-time.Hour), now.Add(10*24*time.Hour)), "edge.example.com",
			ca.Pool(), now, Warn, "expires in 9 days"},
		{"expired", good, "edge.example.com", ca.Pool(), now.Add(91 * 24 * time.Hour), Fail, "reload the edge (SIGHUP)"},
		{"not yet valid", good, "edge.example.com", ca.Pool(), now.Add(-2 * time.Hour), Fail, "clock"},
		{"wrong name", good, "turn.example.org", ca.Pool(), now, Fail, "subjectAltName includes turn.example.org"},
		{"unknown CA", good, "edge.example.com", newCA(t, "other CA").Pool(), now, Fail, "--ca"},
		{"none", nil, "edge.example.com", ca.Pool(), now, Fail, "no certificate"},
	} {
		r := certResult("tls", tc.certs, tc.host, tc.roots, tc.now)
		if r.Status != tc.status || !strings.Contains(r.Detail+" "+r.Remedy, tc.text) {
			t.Errorf("%s: %v %q (%q), want %v with %q", tc.name, r.Status, r.Detail, r.Remedy, tc.status, tc.text)
		}
		if r.Status != Pass && r.Remedy == "" {
			t.Errorf("%s: no remedy", tc.name)
		}
	}
}

// TestTLSHandshakeFails: a port that does not speak TLS fails the TLS
// check with its remedy.
func TestTLSHandshakeFails(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("220 not TLS\r\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	r := probe(t, Options{URIs: []string{"turns:" + ln.Addr().String()}})
	check(t, r, []want{
		{"tcp", Pass, ""},
		{"tls", Fail, "the edge must speak TLS 1.2 or later"},
		{"allocate tls", Skip, ""},
	})
}
