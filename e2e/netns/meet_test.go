package netns

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/netnstest"
)

// testMeet relays between an internal client (allocating through the
// internal listener with the intranet credential) and an external client
// in the peer namespace (through the external listener with the internet
// credential): both relayed addresses live on the external interface, each
// client permits the other's relayed address, and each receives every
// datagram the other sends through its allocation.
func testMeet(t *testing.T, n *netnstest.Net, helper string, intranet, internet credential) {
	clients := []struct {
		side, ns, server string
		cred             credential
	}{
		{"internal", nsClient, edgeInternal + ":3478", intranet},
		{"external", nsPeer, edgeExternal + ":3478", internet},
	}
	procs := make([]*netnstest.Proc, len(clients))
	relayed := make([]string, len(clients))
	for i, c := range clients {
		procs[i] = n.StartWith(c.ns, netnstest.StartOptions{Limit: 40 * time.Second}, helper, "meet",
			"-server", c.server, "-user", c.cred.Username, "-password", c.cred.Password,
			"-realm", c.cred.Realm, "-count", strconv.Itoa(packets), "-timeout", "5s")
	}
	for i, c := range clients {
		var res struct {
			Relayed string `json:"relayed"`
		}
		if line := procs[i].Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
			t.Fatalf("%s client: %q, want its relayed address", c.side, line)
		}
		checkExternal(t, res.Relayed)
		relayed[i] = res.Relayed
	}
	t.Logf("internal client relayed %s, external client relayed %s", relayed[0], relayed[1])
	// Each permits the other's relayed address; only once both have their
	// permissions do they send.
	for i := range clients {
		procs[i].WriteLine(relayed[1-i])
	}
	for i, c := range clients {
		if got := procs[i].Line(lineLimit); got != `{"permitted":true}` {
			t.Fatalf("%s client: %q, want permitted", c.side, got)
		}
	}
	for i := range clients {
		procs[i].WriteLine("go")
	}
	want := fmt.Sprintf(`{"received":%d,"sent":%d}`, packets, packets)
	for i, c := range clients {
		if got := procs[i].Line(lineLimit); got != want {
			t.Errorf("%s client relaying to %s: %s, want %s", c.side, relayed[1-i], got, want)
		}
	}
}
