package credsvc

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
)

// reverify is the Server's handler: it checks the client certificate of
// every request against the current client CAs and the current time
// before the Handler sees it. The handshake verified it against the CAs of
// its time; a kept-alive connection outlives a reload that removes a CA,
// and must be cut off at its next request (403, Connection: close). The
// request reaches the Handler with the chains verified now.
func (s *Server) reverify(w http.ResponseWriter, r *http.Request) {
	state := r.TLS
	if state == nil {
		// The Server hands connections over wrapped: see httpConn.
		state = tlsState(r.Context())
	}
	verified, err := s.reverifyState(state)
	if err != nil {
		refuse(s.refusal, &s.counts, w, r, "", http.StatusForbidden, err.Error())
		return
	}
	r2 := *r
	r2.TLS = verified
	s.handler.ServeHTTP(w, &r2)
}

// reverifyState verifies the peer certificate of a connection's TLS state
// against the current client CAs and time, and returns a copy of state
// with the chains verified now. A state without a peer certificate is
// returned as it is, for the Handler to refuse.
func (s *Server) reverifyState(state *tls.ConnectionState) (*tls.ConnectionState, error) {
	if state == nil || len(state.PeerCertificates) == 0 {
		return state, nil
	}
	certs := state.PeerCertificates
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
		return nil, fmt.Errorf("client certificate %s no longer verifies: %w", describe(certs[0]), err)
	}
	out := *state
	out.VerifiedChains = chains
	return &out, nil
}
