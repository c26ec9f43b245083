package browser

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/haproxy"
	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/edgetest"
)

const (
	// haproxyName is the turns: URI's host name, by which HAProxy routes
	// to the edge; Chromium resolves it to 127.0.0.1 (resolveTo).
	haproxyName = "turn.test"
	// haproxySource is the address HAProxy connects to the edge from,
	// its only trusted proxy; Chromium connects from 127.0.0.1.
	haproxySource = "127.0.0.5"
	// haproxyRelayLo and haproxyRelayHi are the edge's relay ports.
	haproxyRelayLo, haproxyRelayHi = 39764, 39827
)

// haproxyListener is a TLS listener on 127.0.0.1 (port %d) that takes
// the PROXY protocol v2 from HAProxy only.
const haproxyListener = `  - {protocol: tls, address: "127.0.0.1:%d", proxy_protocol: v2, trusted_proxies: [` + haproxySource + `],
     tls: {cert_file: pki/service.crt, key_file: pki/service.key}}
`

// TestChromiumHAProxy: Chromium calls relay-only over turns: through
// HAProxy, which routes the turns: URI's host name by SNI to the edge and
// sends it the PROXY protocol v2 from 127.0.0.5. The call works over relay
// pairs with relayProtocol tls, and the edge's records of both allocations
// name the browser's own address (127.0.0.1), not HAProxy's.
func TestChromiumHAProxy(t *testing.T) {
	requireBrowser(t)
	bin := haproxy.Path(t)
	dir := t.TempDir()
	leaf := devPKI(t, dir, haproxyName)
	edge := fmt.Sprintf("127.0.0.1:%d", loopback.FreePort(t))
	front := fmt.Sprintf("127.0.0.1:%d", loopback.FreePort(t))
	startShippedEdge(t, dir, fmt.Sprintf(haproxyListener, netip.MustParseAddrPort(edge).Port()), haproxyRelayLo, haproxyRelayHi)
	haproxy.Start(t, bin, haproxy.SNIConfig(front,
		haproxy.Backend{Name: "avedge", SNI: haproxyName, Server: edge, ProxyV2: true, Source: haproxySource}), front)

	page := serveICE(t, edgetest.ICEServer{
		URLs:     []string{fmt.Sprintf("turns:%s:%d?transport=tcp", haproxyName, netip.MustParseAddrPort(front).Port())},
		Username: shippedUser, Credential: shippedPassword,
	})
	res := runDriver(t, page, "data", spkiPin(leaf), resolveTo(haproxyName))
	for _, r := range checkTLSCall(t, res, dir, haproxyRelayLo, haproxyRelayHi) {
		client, err := netip.ParseAddrPort(r.Client)
		if err != nil || client.Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("record of %s: client %q, want the browser's 127.0.0.1 (HAProxy connects from %s)", r.Relayed, r.Client, haproxySource)
		}
	}
}

// devPKI makes a development CA and a certificate for name in dir/pki
// with "avedge pki dev", and returns that certificate.
func devPKI(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, shipped.Build(t, "cmd/avedge"), "pki", "dev", "--new-ca",
		"--out", filepath.Join(dir, "pki"), "--server-name", name).CombinedOutput()
	if err != nil {
		t.Fatalf("avedge pki dev: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "pki", "service.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("pki/service.crt holds no PEM block: %q", b)
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("pki/service.crt: %v", err)
	}
	return leaf
}
