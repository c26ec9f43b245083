package server

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

// TestCoturnClient relays through the edge with coturn's test client
// (turnutils_uclient from Debian's coturn package), a TURN implementation
// that shares no code with avedge or pion, with channels (its numbers come
// from RFC 5766's wider range, 0x4000-0x7FFF, which the edge binds unless
// turn.strict_channel_numbers) over UDP, TCP and TLS, and with Send
// indications (-s). The cases cover RTP/RTCP port pairs (EVEN-PORT with the R
// bit for RTP, RESERVATION-TOKEN for RTCP, which goes to the peer's next
// port), DONT-FRAGMENT (-g), IPv6 relayed addresses (-x), and TURN over TCP
// (-t) and TLS (-t -S) on one sniffed port. Its dual
// allocations (-Z) are left out: it sends ADDITIONAL-ADDRESS-FAMILY with
// the pre-RFC draft code point 0x8032, where RFC 8656 §18.11 assigns 0x8000,
// so avedge gives it an IPv4-only allocation and its IPv6 Refresh gets 443.
func TestCoturnClient(t *testing.T) {
	uclient, err := exec.LookPath("turnutils_uclient")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("turnutils_uclient is missing: scripts/install-test-deps installs Debian's coturn package")
		}
		t.Skip("skipping: turnutils_uclient not installed (apt-get install coturn, or run scripts/install-test-deps)")
	}
	for _, tc := range []struct {
		name   string
		flags  []string
		peerIP string
		ipv6   bool
		pairs  bool // allocations come in RTP/RTCP pairs of relayed ports
		stream bool // the client reaches the edge over TCP or TLS
	}{
		{"channels", []string{"-c"}, "127.0.0.1", false, false, false},
		{"channels over TCP", []string{"-c", "-t"}, "127.0.0.1", false, false, true},
		{"channels over TLS", []string{"-c", "-t", "-S"}, "127.0.0.1", false, false, true},
		{"Send indications", []string{"-s", "-c"}, "127.0.0.1", false, false, false},
		{"RTP/RTCP pairs", []string{"-s"}, "127.0.0.1", false, true, false},
		{"DONT-FRAGMENT", []string{"-s", "-c", "-g"}, "127.0.0.1", false, false, false},
		{"IPv6 relay", []string{"-s", "-c", "-x"}, "::1", true, false, false},
		{"Send indications over TCP", []string{"-s", "-c", "-t"}, "127.0.0.1", false, false, true},
		{"Send indications over TLS", []string{"-s", "-c", "-t", "-S"}, "127.0.0.1", false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has its own edge and ports
			mod := func(*Options) {}
			if tc.ipv6 {
				requireIPv6(t)
				mod = withIPv6
			}
			var e *testEdge
			var port uint16
			if tc.stream {
				se := newStreamEdge(t, mod)
				e, port = se.testEdge, se.tcp.Port()
			} else {
				e = newTestEdge(t, mod)
				port = e.addr.Port()
			}
			coturnRun(t, e, uclient, port, tc.peerIP, tc.flags)
			if tc.pairs {
				wantPair(t, e)
			}
		})
	}
}

// wantPair stops e and checks that among its allocations were an RTP/RTCP
// pair: an even relayed port and the next one, which the client got with
// the RESERVATION-TOKEN of the first. (turnutils_uclient's second RTP
// allocation reserves a port it never claims.)
func wantPair(t *testing.T, e *testEdge) {
	t.Helper()
	e.srv.Close()
	ports := map[uint16]bool{}
	for len(e.ended) > 0 {
		ports[(<-e.ended).Relayed.Port()] = true
	}
	for port := range ports {
		if port%2 == 0 && ports[port+1] {
			return
		}
	}
	t.Fatalf("relayed ports %v: no even/odd pair", ports)
}

// coturnRun runs turnutils_uclient with two clients of 50 messages each
// against e's port, relaying to echo peers on peerIP (an RTP/RTCP pair of ports),
// and checks that every message came back through the relay.
func coturnRun(t *testing.T, e *testEdge, uclient string, port uint16, peerIP string, flags []string) {
	u, p := e.credential("coturn-client", time.Hour)
	echo, _ := newEchoPeerPair(t, peerIP)

	const clients, messages = 2, 50
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(slices.Clone(flags), "-u", u, "-w", p,
		"-p", strconv.Itoa(int(port)),
		"-e", peerIP, "-r", strconv.Itoa(int(echo.addr().Port())),
		"-n", strconv.Itoa(messages), "-m", strconv.Itoa(clients), "-l", "170", "-z", "5",
		"127.0.0.1")
	out, err := exec.CommandContext(ctx, uclient, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("turnutils_uclient %v: %v\n%s", args, err, out)
	}
	// The last "tot_send_msgs=N, tot_recv_msgs=M" line holds the totals.
	var sent, received int
	for _, m := range regexp.MustCompile(`(?m)tot_send_msgs=(\d+), tot_recv_msgs=(\d+)$`).FindAllStringSubmatch(string(out), -1) {
		sent, _ = strconv.Atoi(m[1])
		received, _ = strconv.Atoi(m[2])
	}
	if sent != clients*messages {
		t.Fatalf("turnutils_uclient sent %d, want %d\n%s", sent, clients*messages, out)
	}
	// Each message went client → peer and back through the relay, and the
	// edge dropped nothing; without -s, over channels every client bound.
	st := e.srv.Stats()
	if binds := st.ChannelBinds[stats.ChannelRFC8656] + st.ChannelBinds[stats.ChannelRFC5766]; !slices.Contains(flags, "-s") && binds < clients {
		t.Fatalf("edge granted %d ChannelBinds, want one per client at least (%d)", binds, clients)
	}
	if st.ToPeerPackets < uint64(sent) || st.ToClientPackets < uint64(sent) {
		t.Fatalf("edge relayed %d to peers and %d to clients, want at least %d each", st.ToPeerPackets, st.ToClientPackets, sent)
	}
	for r, n := range st.Drops {
		if n != 0 {
			t.Errorf("edge dropped %d packets as %s", n, stats.DropReason(r))
		}
	}
	// What the edge sent back, turnutils_uclient counts only while it
	// listens: on a loaded machine (the race detector, other test packages
	// in parallel) it may stop before the last datagram of 100 is read.
	// More than that is a real loss, unless the client lost connections of
	// its own: turnutils_uclient -S opens each TLS connection with one of
	// several OpenSSL contexts picked at random, TLS 1.0 and 1.1 among them,
	// which the edge refuses (TLS 1.2 or later only), and it then loses
	// count of at most that client's messages. The edge's own counters
	// above still show that it relayed every one.
	refused := bytes.Count(out, []byte("alert protocol version"))
	if lost := sent - received; lost > sent/50+refused*messages {
		t.Fatalf("turnutils_uclient sent %d and received %d\n%s", sent, received, out)
	} else if lost > 0 {
		t.Logf("turnutils_uclient counted %d of %d back (TLS below 1.2 refused: %v); the edge relayed all of them", received, sent, refused)
	}
}

// TestCoturnTCPRelay relays through RFC 6062 TCP allocations with
// turnutils_uclient -T: over TCP control connections it makes two TCP
// allocations, permits each one's relayed address on the other, Connects
// from the first to the second (an inbound peer connection there, with a
// ConnectionAttempt), binds both data connections and sends its messages
// across.
func TestCoturnTCPRelay(t *testing.T) {
	uclient, err := exec.LookPath("turnutils_uclient")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("turnutils_uclient is missing: scripts/install-test-deps installs Debian's coturn package")
		}
		t.Skip("skipping: turnutils_uclient not installed (apt-get install coturn, or run scripts/install-test-deps)")
	}
	t.Parallel()
	se := newStreamEdge(t, nil)
	u, p := se.credential("coturn-client", time.Hour)
	const messages = 20
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"-T", "-u", u, "-w", p, "-p", strconv.Itoa(int(se.tcp.Port())),
		"-n", strconv.Itoa(messages), "-m", "1", "-l", "170", "-z", "5", "127.0.0.1"}
	out, err := exec.CommandContext(ctx, uclient, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("turnutils_uclient %v: %v\n%s", args, err, out)
	}
	var sent, received int
	for _, m := range regexp.MustCompile(`(?m)tot_send_msgs=(\d+), tot_recv_msgs=(\d+)$`).FindAllStringSubmatch(string(out), -1) {
		sent, _ = strconv.Atoi(m[1])
		received, _ = strconv.Atoi(m[2])
	}
	// Both ends of the client-to-client pair send every message.
	if sent != 2*messages || received != sent {
		t.Fatalf("turnutils_uclient sent %d and received %d, want %d each\n%s", sent, received, 2*messages, out)
	}
	waitFor(t, func() bool { return se.srv.Stats().TCP.DataOpen == 0 })
	st := se.srv.Stats().TCP
	if st.Connects != 1 || st.Inbound != 1 || st.Bound != 2 || st.ToPeerBytes == 0 || st.ToPeerBytes != st.ToClientBytes {
		t.Fatalf("TCP relay stats %+v, want one Connect, one inbound, two binds and the bytes both ways", st)
	}
}
