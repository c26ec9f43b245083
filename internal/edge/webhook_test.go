package edge

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/turntest"
)

// freeUDPPort returns a UDP port of 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestWebhookEdge: an edge configured with auth.webhook (and no secrets)
// asks the service, with its bearer token and trusting the service's CA
// from ca_file, for a user it cannot verify itself: the user it allows
// allocates, a second client of that user is answered from the cache (one
// request in all), and a user it refuses gets 401.
func TestWebhookEdge(t *testing.T) {
	const token = "webhook-test-token-0123456789"
	var asked atomic.Int32
	svc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		var q struct{ Username string }
		if r.Header.Get("Authorization") != "Bearer "+token || json.NewDecoder(r.Body).Decode(&q) != nil || q.Username != "phone-9" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"password": "dial-tone"})
	}))
	defer svc.Close()
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: svc.Certificate().Raw})
	for name, b := range map[string][]byte{"ca.crt": ca, "token": []byte(token + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := freeUDPPort(t)
	yaml := fmt.Sprintf(`realm: webhook.example
listeners:
  - {protocol: udp, address: "127.0.0.1:%d"}
relay:
  address: 127.0.0.1
  ports: 31900-31949
auth:
  webhook:
    url: %s/turn-auth
    ca_file: ca.crt
    token_file: token
    timeout: 2s
`, port, svc.URL)
	cfg, err := config.Parse("edge.yaml", dir, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	e := runEdge(t, cfg, nil)
	addr := e.relay.Addrs()[0]
	for i := range 2 {
		if _, code := turntest.DialUDP(t, addr, "phone-9", "dial-tone").Allocate(); code != 0 {
			t.Fatalf("Allocate %d of the user the webhook allows: %d", i, code)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the service was asked %d times for two clients of one user, want once (cached)", n)
	}
	if _, code := turntest.DialUDP(t, addr, "intruder", "guess").Allocate(); code != stun.CodeUnauthorized {
		t.Errorf("Allocate of a user the webhook refuses: %d, want 401", code)
	}
}
