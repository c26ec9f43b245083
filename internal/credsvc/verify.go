package credsvc

import (
	"crypto/x509"
	"net/http"
)

// reverify is the Server's handler: it checks the client certificate of
// every request against the current client CAs and the current time
// before the Handler sees it. The handshake verified it against the CAs of
// its time; a kept-alive connection outlives a reload that removes a CA,
// and must be cut off at its next request (403, Connection: close). The
// request reaches the Handler with the chains verified now.
func (s *Server) reverify(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		s.handler.ServeHTTP(w, r) // the Handler refuses it
		return
	}
	certs := r.TLS.PeerCertificates
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         s.tls.Load().ClientCAs,
		Intermediates: inter,
		CurrentTime:   s.clk.Now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		refuse(s.refusal, &s.counts, w, r, "", http.StatusForbidden, "client certificate "+describe(certs[0])+" no longer verifies: "+err.Error())
		return
	}
	state := *r.TLS
	state.VerifiedChains = chains
	r2 := *r
	r2.TLS = &state
	s.handler.ServeHTTP(w, &r2)
}
