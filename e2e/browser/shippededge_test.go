package browser

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/proc"
	"github.com/avedge/avedge/e2e/internal/recordfile"
	"github.com/avedge/avedge/e2e/internal/shipped"
)

const (
	// shippedUser and shippedPassword are the static user of the edges
	// that the tests run from the shipped binary.
	shippedUser, shippedPassword = "alice", "browser-test-password"
	// recordsFile is where those edges write their session records, in
	// their configuration's directory.
	recordsFile = "records.jsonl"
	// recordTimeout bounds the wait for the end records of a call, which
	// the edge writes once Chromium has closed its TLS connections.
	recordTimeout = 10 * time.Second
)

// shippedEdgeConfig is the configuration of those edges but for their
// listeners: relaying on 127.0.0.1 ports %d-%d to loopback peers, for
// the static user, with records.
const shippedEdgeConfig = `realm: browser.avedge.test
relay:
  address: 127.0.0.1
  ports: "%d-%d"
auth:
  static_users:
    - {username: ` + shippedUser + `, password: ` + shippedPassword + `}
peers:
  allow: [127.0.0.0/8]
records:
  output: ` + recordsFile + `
listeners:
`

// startShippedEdge writes the configuration of an edge with the listener
// (a YAML list item) that relays on ports lo-hi to dir/avedge.yaml and runs
// the shipped avedge on it, its state in a new directory, until the test
// ends.
func startShippedEdge(t *testing.T, dir, listener string, lo, hi int) {
	t.Helper()
	path := filepath.Join(dir, "avedge.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(shippedEdgeConfig, lo, hi)+listener), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	env := append(os.Environ(), "STATE_DIRECTORY="+state, "XDG_STATE_HOME="+state)
	edge := proc.Start(t, "serving", env, shipped.Build(t, "cmd/avedge"), "serve", "--config", path)
	edge.WaitReady(t, 30*time.Second)
}

// spkiPin is the Chromium switch that accepts a chain holding leaf's
// public key (see trustEdgeTLS).
func spkiPin(leaf *x509.Certificate) string {
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return "--ignore-certificate-errors-spki-list=" + base64.StdEncoding.EncodeToString(sum[:])
}

// resolveTo is the Chromium switch that resolves name to 127.0.0.1 and
// keeps driver.mjs's rule for every other name (none resolves but
// localhost): Chromium takes the last --host-resolver-rules, and the first
// rule that matches a name.
func resolveTo(name string) string {
	return "--host-resolver-rules=MAP " + name + " 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
}

// checkTLSCall checks the page's result of the "data" scenario through an
// edge relaying on 127.0.0.1 ports lo-hi over turns:: both connections
// opened and carried every message both ways, on relay-to-relay pairs
// allocated over TLS. It returns the end records of the two allocations
// of the selected pairs from the records file in dir, having checked
// that each went over TLS and relayed bytes both ways.
func checkTLSCall(t *testing.T, res pageResult, dir string, lo, hi int) []recordfile.Line {
	t.Helper()
	if !res.OK {
		t.Fatalf("page failed: %s (iceConnectionState %v, ICE errors %+v)", res.Error, res.ICEConnectionState, res.ICEErrors)
	}
	if d := res.Data; d == nil || d.Sent == 0 || d.ReceivedBy1 != d.Sent || d.ReceivedBy2 != d.Sent {
		t.Errorf("data channel messages: %+v, want all received each way", d)
	}
	var relayed []string
	for name, p := range map[string]*candidatePair{"pc1": res.Selected, "pc2": res.SelectedPC2} {
		checkRelayPair(t, name+" selected pair", p, "127.0.0.1", lo, hi, "tls")
		if p == nil || p.Local == nil {
			t.FailNow()
		}
		relayed = append(relayed, netip.AddrPortFrom(netip.MustParseAddr(p.Local.Address), uint16(p.Local.Port)).String())
	}
	var found []recordfile.Line
	recordfile.WaitEnd(t, filepath.Join(dir, recordsFile), func(ends []recordfile.Line) bool {
		found = found[:0]
		for _, want := range relayed {
			for _, r := range ends {
				if r.Relayed == want {
					found = append(found, r)
				}
			}
		}
		return len(found) == len(relayed)
	}, recordTimeout)
	for _, r := range found {
		t.Logf("end record: relayed %s, client %s, transport %s, %d bytes to the peer, %d to the client",
			r.Relayed, r.Client, r.Transport, r.ToPeerBytes, r.ToClientBytes)
		if r.Transport != "tls" || r.ToPeerBytes == 0 || r.ToClientBytes == 0 {
			t.Errorf("record of %s: transport %q, %d bytes to the peer, %d to the client: want tls, bytes both ways",
				r.Relayed, r.Transport, r.ToPeerBytes, r.ToClientBytes)
		}
	}
	return found
}
