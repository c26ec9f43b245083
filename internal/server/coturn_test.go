package server

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestCoturnClient relays through the edge with coturn's test client
// (turnutils_uclient from Debian's coturn package), a TURN implementation
// that shares no code with avedge or pion. It sends Send indications (-s):
// its channel numbers come from RFC 5766's wider range, which RFC 8656 no
// longer allows; and it asks for no RTCP pair (-c).
func TestCoturnClient(t *testing.T) {
	uclient, err := exec.LookPath("turnutils_uclient")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("turnutils_uclient is missing: scripts/install-test-deps installs Debian's coturn package")
		}
		t.Skip("skipping: turnutils_uclient not installed (apt-get install coturn, or run scripts/install-test-deps)")
	}
	e := newTestEdge(t, nil)
	u, p := e.credential("coturn-client", time.Hour)
	echo := newEchoPeer(t, "127.0.0.1")

	const clients, messages = 2, 50
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, uclient, "-s", "-c",
		"-u", u, "-w", p,
		"-p", strconv.Itoa(int(e.addr.Port())),
		"-e", "127.0.0.1", "-r", strconv.Itoa(int(echo.addr().Port())),
		"-n", strconv.Itoa(messages), "-m", strconv.Itoa(clients), "-l", "170", "-z", "5",
		"127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("turnutils_uclient: %v\n%s", err, out)
	}
	// The last "tot_send_msgs=N, tot_recv_msgs=M" line holds the totals.
	var sent, received int
	for _, m := range regexp.MustCompile(`(?m)tot_send_msgs=(\d+), tot_recv_msgs=(\d+)$`).FindAllStringSubmatch(string(out), -1) {
		sent, _ = strconv.Atoi(m[1])
		received, _ = strconv.Atoi(m[2])
	}
	if sent != clients*messages || received != sent {
		t.Fatalf("turnutils_uclient sent %d and received %d, want %d each\n%s", sent, received, clients*messages, out)
	}
	// Each message went client → peer and back, through the relay.
	if st := e.srv.Stats(); st.ToPeerPackets < uint64(sent) || st.ToClientPackets < uint64(sent) {
		t.Fatalf("edge relayed %d to peers and %d to clients, want at least %d each", st.ToPeerPackets, st.ToClientPackets, sent)
	}
}
