package mras

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// TestServerWithoutMRAS: without ServerOptions.MRAS every connection is
// HTTP, and the handler sees the verified TLS state although the Server
// hands the connection over wrapped.
func TestServerWithoutMRAS(t *testing.T) {
	sawTLS := make(chan bool, 4)
	s := startService(t, nil, func(o *credsvc.ServerOptions) {
		o.MRAS = nil
		o.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sawTLS <- r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && r.TLS.Version >= tls.VersionTLS12
			w.WriteHeader(http.StatusNoContent)
		})
	})
	resp, _, err := s.PostJSON(s.HTTPClient(s.PKI.Client(credsvctest.TrustedApp)), `{}`)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%v %v", resp, err)
	}
	if !<-sawTLS {
		t.Error("the handler saw no verified TLS state")
	}
	// A SIP request reaches net/http, which refuses it as HTTP.
	c := s.dialSIP(s.PKI.Client(credsvctest.TrustedApp))
	c.send(goldenRequest(1))
	_ = c.conn.SetReadDeadline(time.Now().Add(credsvctest.IOTimeout))
	line, err := c.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 400 ") {
		t.Errorf("answer %q, %v: want an HTTP 400", line, err)
	}
}
