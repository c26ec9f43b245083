package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/e2e/internal/pebble"
	"github.com/avedge/avedge/internal/edgetest"
)

const (
	// acmeDomain is the name of the ACME edge's certificate and of its
	// turns: URI; Chromium resolves it to 127.0.0.1 (resolveTo).
	acmeDomain = "turn.example.com"
	// acmeRelayLo and acmeRelayHi are the ACME edge's relay ports.
	acmeRelayLo, acmeRelayHi = 39700, 39763
	// issueTimeout bounds the wait for Pebble's certificate.
	issueTimeout = 30 * time.Second
)

// acmeListener is a TLS listener on 127.0.0.1 (port %d) that gets its
// certificate from Pebble (directory %s, Pebble's HTTPS CA in %s) by
// TLS-ALPN-01 on itself.
const acmeListener = `  - protocol: tls
    address: 127.0.0.1:%d
    tls:
      acme:
        domains: [` + acmeDomain + `]
        email: ops@example.com
        directory: %s
        ca_roots: %s
`

// TestChromiumACME: Chromium calls relay-only over turns: to an edge whose
// TLS listener got its certificate from Pebble by TLS-ALPN-01. The test
// verifies the served chain against Pebble's root for the turns: URI's
// name, then pins the issued leaf's public key in Chromium (Pebble's root
// is made afresh at each start, and Chromium on Linux reads added roots
// only from an NSS database under the HOME that runDriver makes, so
// pinning is how the existing TLS test trusts its edge too). The data
// channel opens and carries messages both ways over relay pairs with
// relayProtocol tls, and the edge's records show both allocations over TLS.
func TestChromiumACME(t *testing.T) {
	requireBrowser(t)
	tlsPort := loopback.FreePort(t)
	ca := pebble.Start(t, pebble.Options{TLSPort: tlsPort, HTTPPort: loopback.FreePort(t), Validity: time.Hour})
	dir := t.TempDir()
	startShippedEdge(t, dir, fmt.Sprintf(acmeListener, tlsPort, ca.Directory, ca.CARoots), acmeRelayLo, acmeRelayHi)
	addr := fmt.Sprintf("127.0.0.1:%d", tlsPort)
	st := ca.WaitServed(t, addr, acmeDomain, []string{"stun.turn"}, nil, issueTimeout)
	leaf := st.PeerCertificates[0]
	t.Logf("served: %s, serial %x, issued by %q", leaf.DNSNames, leaf.SerialNumber, leaf.Issuer.CommonName)

	page := serveICE(t, edgetest.ICEServer{
		URLs:     []string{fmt.Sprintf("turns:%s:%d?transport=tcp", acmeDomain, tlsPort)},
		Username: shippedUser, Credential: shippedPassword,
	})
	res := runDriver(t, page, "data", spkiPin(leaf), resolveTo(acmeDomain))
	checkTLSCall(t, res, dir, acmeRelayLo, acmeRelayHi)
}
