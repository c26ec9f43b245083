// Command helper is the client, peer and service program of the
// network-namespace test (e2e/netns): run in the client namespace
// (internal side), the peer namespace (external side) or the edge
// namespace, it drives a TURN client (github.com/pion/turn/v4) through the
// edge, or a raw one that sends exactly the messages it is told to, echoes
// or sends UDP datagrams, serves HTTP, fetches an admin URL, or tries a TCP
// connection, and prints its results as JSON lines on stdout.
//
// Usage:
//
//	helper relay -server ADDR -user U -password P -realm R -peer ADDR -count N -timeout D
//	helper meet -server ADDR -user U -password P -realm R -count N -timeout D
//	helper turn -server ADDR -transport udp|tcp [-family 4|6] [-tos N] -user U -password P -realm R -timeout D
//	helper get -url URL -timeout D
//	helper dial -to ADDR -timeout D
//	helper echo -listen ADDR -count N [-tos 0] -timeout D
//	helper serve -listen ADDR[,ADDR...] -timeout D
//	helper send -to ADDR -count N
//	helper stun -listen ADDR -timeout D
//	helper imds -listen ADDR -ip IP -timeout D
//	helper nocsum -dev NAME
//	helper gro -dev NAME
//	helper tcx -dev NAME
//
// relay allocates a relayed address, creates a permission for -peer, sends
// -count datagrams to it through the relay and counts the echoes that come
// back; then it allocates a second relayed address without any permission,
// prints both results as one line, counts what reaches the second address
// until a line (or end of file) arrives on stdin, and prints that count.
//
// meet relays to another client's relayed address: it allocates and prints
// {"relayed":ADDR}; reads the other's relayed address from stdin, creates a
// permission for it and prints {"permitted":true}; then, on the next line
// of stdin (sent once both clients have their permissions), sends -count
// datagrams to it through its own allocation, counts the distinct datagrams
// that arrive from it before -timeout, and prints {"sent":N,"received":M}.
//
// turn allocates and then runs the TURN commands of stdin (see turnMode);
// serve runs a UDP echo and an HTTP server on each address and counts what
// reaches them (see serve); echo answers up to -count datagrams on
// -listen; send sends -count datagrams to -to; stun answers STUN Binding
// requests on -listen; imds serves AWS's IMDSv2 metadata on -listen with
// -ip as the public address; nocsum turns the transmit checksum offload
// of interface -dev off; gro turns its GRO on (a veth then receives what
// an XDP program redirects to it); tcx prints how many eBPF programs are attached at
// the tcx ingress of -dev (see their functions).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/turn/v4"
)

var (
	// errUsage reports a missing or unknown mode.
	errUsage = errors.New("helper: usage: helper relay|meet|turn|get|dial|echo|serve|send|stun|imds|nocsum|gro|tcx [flags]")
	// errStatus reports a non-200 answer to get.
	errStatus = errors.New("helper: unexpected HTTP status")
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run dispatches on the mode in args[0].
func run(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	var rc relayConfig
	fs.StringVar(&rc.server, "server", "", "TURN server IP:port (UDP)")
	fs.StringVar(&rc.user, "user", "", "TURN username")
	fs.StringVar(&rc.password, "password", "", "TURN password")
	fs.StringVar(&rc.realm, "realm", "", "TURN realm")
	fs.StringVar(&rc.peer, "peer", "", "UDP echo peer IP:port")
	fs.IntVar(&rc.count, "count", 5, "datagrams to send to the peer")
	url := fs.String("url", "", "URL to GET")
	to := fs.String("to", "", "address to dial (TCP) or send to (UDP)")
	listen := fs.String("listen", "", "UDP address to echo on (serve: UDP and TCP addresses, comma-separated)")
	transport := fs.String("transport", "udp", "TURN transport of the turn mode: udp, or tcp for an RFC 6062 allocation")
	publicIP := fs.String("ip", "", "public address the imds mode answers")
	dev := fs.String("dev", "", "interface whose transmit checksum offload nocsum turns off, whose GRO gro turns on, or whose tcx programs tcx counts")
	fs.IntVar(&rc.family, "family", 4, "turn: the address family (4 or 6) of the socket and the relayed address")
	fs.IntVar(&rc.tos, "tos", -1, "turn: send with this TOS byte / Traffic Class and report it on received data; echo: report and reflect it (any value but -1)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	rc.timeout = *timeout
	switch args[0] {
	case "relay":
		return relay(rc, os.Stdin)
	case "meet":
		return meet(rc, bufio.NewReader(os.Stdin))
	case "turn":
		return turnMode(rc, *transport, os.Stdin)
	case "get":
		return get(*url, *timeout)
	case "dial":
		return dial(*to, *timeout)
	case "echo":
		return echo(*listen, rc.count, *timeout, rc.tos != -1)
	case "serve":
		return serve(*listen, *timeout, os.Stdin)
	case "send":
		return send(*to, rc.count)
	case "stun":
		return stunServe(*listen, *timeout)
	case "imds":
		return imdsServe(*listen, *publicIP, *timeout)
	case "nocsum":
		return noTxChecksum(*dev)
	case "gro":
		return enableGRO(*dev)
	case "tcx":
		return tcxPrograms(*dev)
	}
	return errUsage
}

// relayConfig holds the flags of the relay mode.
type relayConfig struct {
	server, user, password, realm, peer string
	count                               int
	timeout                             time.Duration
	// family (4 or 6) is the address family of the turn mode's socket and
	// relayed address; tos, when not -1, is the TOS byte (IPv4) or Traffic
	// Class (IPv6) the turn mode sends with and reports on what it
	// receives, and makes echo report and reflect it.
	family, tos int
}

// permittedResult is the first line relay prints.
type permittedResult struct {
	Relayed            string `json:"relayed"`
	Sent               int    `json:"sent"`
	Echoes             int    `json:"echoes"`
	UnpermittedRelayed string `json:"unpermitted_relayed"`
}

// unpermittedResult is the second line relay prints.
type unpermittedResult struct {
	UnpermittedReceived int `json:"unpermitted_received"`
}

// relay runs both phases described in the package comment; stdin ends the
// second one.
func relay(rc relayConfig, stdin io.Reader) error {
	peer, err := net.ResolveUDPAddr("udp", rc.peer)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	tc1, err := newTURNClient(rc)
	if err != nil {
		return err
	}
	defer tc1.Close()
	relayed, err := tc1.Allocate()
	if err != nil {
		return fmt.Errorf("helper: allocate: %w", err)
	}
	defer relayed.Close()
	if err := tc1.CreatePermission(peer); err != nil {
		return fmt.Errorf("helper: create permission: %w", err)
	}
	echoes, err := pingPeer(relayed, peer, rc.count, rc.timeout)
	if err != nil {
		return err
	}
	tc2, err := newTURNClient(rc)
	if err != nil {
		return err
	}
	defer tc2.Close()
	bare, err := tc2.Allocate()
	if err != nil {
		return fmt.Errorf("helper: allocate: %w", err)
	}
	defer bare.Close()
	var wg sync.WaitGroup
	received := 0
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := bare.ReadFrom(buf); err != nil {
				return
			}
			received++
		}
	})
	first := permittedResult{
		Relayed: relayed.LocalAddr().String(), Sent: rc.count, Echoes: echoes,
		UnpermittedRelayed: bare.LocalAddr().String(),
	}
	if err := printJSON(first); err != nil {
		return err
	}
	// Wait for the test to say the unpermitted phase is over.
	_, _ = bufio.NewReader(stdin).ReadString('\n')
	if err := bare.SetReadDeadline(time.Now()); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	wg.Wait()
	return printJSON(unpermittedResult{UnpermittedReceived: received})
}

// meet runs the meet mode described in the package comment.
func meet(rc relayConfig, stdin *bufio.Reader) error {
	tc, err := newTURNClient(rc)
	if err != nil {
		return err
	}
	defer tc.Close()
	relayed, err := tc.Allocate()
	if err != nil {
		return fmt.Errorf("helper: allocate: %w", err)
	}
	defer relayed.Close()
	if err := printJSON(map[string]string{"relayed": relayed.LocalAddr().String()}); err != nil {
		return err
	}
	line, err := stdin.ReadString('\n')
	if err != nil {
		return fmt.Errorf("helper: reading the other relayed address: %w", err)
	}
	other, err := net.ResolveUDPAddr("udp", strings.TrimSpace(line))
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	if err := tc.CreatePermission(other); err != nil {
		return fmt.Errorf("helper: create permission: %w", err)
	}
	if err := printJSON(map[string]bool{"permitted": true}); err != nil {
		return err
	}
	if _, err := stdin.ReadString('\n'); err != nil {
		return fmt.Errorf("helper: waiting for go: %w", err)
	}
	want := make(map[string]bool, rc.count)
	for i := range rc.count {
		want[fmt.Sprintf("from %s: %d", other, i)] = true
		msg := fmt.Sprintf("from %s: %d", relayed.LocalAddr(), i)
		if _, err := relayed.WriteTo([]byte(msg), other); err != nil {
			return fmt.Errorf("helper: send: %w", err)
		}
	}
	if err := relayed.SetReadDeadline(time.Now().Add(rc.timeout)); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	buf := make([]byte, 1500)
	received := 0
	for received < rc.count {
		n, from, err := relayed.ReadFrom(buf)
		if err != nil {
			break
		}
		if from.String() == other.String() && want[string(buf[:n])] {
			delete(want, string(buf[:n]))
			received++
		}
	}
	return printJSON(map[string]int{"sent": rc.count, "received": received})
}

// newTURNClient opens a UDP socket of the server's family and a listening
// TURN client on it.
func newTURNClient(rc relayConfig) (*turn.Client, error) {
	network := "udp4"
	if host, _, err := net.SplitHostPort(rc.server); err == nil && strings.Contains(host, ":") {
		network = "udp6"
	}
	conn, err := net.ListenPacket(network, ":0")
	if err != nil {
		return nil, fmt.Errorf("helper: %w", err)
	}
	std, err := stdnet.NewNet()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("helper: %w", err)
	}
	tc, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: rc.server, TURNServerAddr: rc.server, Conn: conn,
		Username: rc.user, Password: rc.password, Realm: rc.realm, Net: anyFamily{std},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("helper: %w", err)
	}
	if err := tc.Listen(); err != nil {
		tc.Close()
		conn.Close()
		return nil, fmt.Errorf("helper: %w", err)
	}
	return tc, nil
}

// anyFamily is the standard network, except that it resolves UDP
// addresses of either family when asked for IPv4 ones: pion/turn's client
// resolves its server addresses as "udp4", which would keep it off an
// IPv6-only edge.
type anyFamily struct{ *stdnet.Net }

// ResolveUDPAddr resolves address in either family.
func (n anyFamily) ResolveUDPAddr(_, address string) (*net.UDPAddr, error) {
	return n.Net.ResolveUDPAddr("udp", address)
}

// pingPeer sends count distinct datagrams to peer through relayed and
// counts the distinct echoes from peer that arrive before timeout.
func pingPeer(relayed net.PacketConn, peer net.Addr, count int, timeout time.Duration) (int, error) {
	want := make(map[string]bool, count)
	for i := range count {
		msg := fmt.Sprintf("echo %d", i)
		want[msg] = true
		if _, err := relayed.WriteTo([]byte(msg), peer); err != nil {
			return 0, fmt.Errorf("helper: send to peer: %w", err)
		}
	}
	if err := relayed.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return 0, fmt.Errorf("helper: %w", err)
	}
	buf := make([]byte, 1500)
	echoes := 0
	for echoes < count {
		n, from, err := relayed.ReadFrom(buf)
		if err != nil {
			break
		}
		if from.String() == peer.String() && want[string(buf[:n])] {
			delete(want, string(buf[:n]))
			echoes++
		}
	}
	return echoes, nil
}

// get fetches url and prints its body; a status other than 200 is an error.
func get(url string, timeout time.Duration) error {
	hc := &http.Client{Timeout: timeout}
	resp, err := hc.Get(url)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s", errStatus, resp.Status)
	}
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	return nil
}

// echo answers up to count datagrams on listen with their own bytes, then
// prints how many it echoed. It prints {"listening":true} first, once the
// socket is bound, and stops at the deadline. With reflect, each answer
// leaves with the TOS byte or Traffic Class its datagram arrived with, and
// the last line lists the values seen: {"echoed":N,"tos":[...]}.
func echo(listen string, count int, timeout time.Duration, reflect bool) error {
	conn, err := net.ListenPacket("udp", listen)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	defer conn.Close()
	var ts *tosSocket
	if reflect {
		if ts, err = newTOSSocket(conn.(*net.UDPConn)); err != nil {
			return err
		}
	}
	if err := printJSON(map[string]bool{"listening": true}); err != nil {
		return err
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	buf := make([]byte, 1500)
	echoed := 0
	seen := map[int]bool{}
	for echoed < count {
		var n int
		var from net.Addr
		if ts != nil {
			var ap netip.AddrPort
			var tos int
			if n, ap, tos, err = ts.read(buf); err == nil {
				seen[tos] = true
				from = net.UDPAddrFromAddrPort(ap)
				err = ts.set(max(tos, 0))
			}
		} else {
			n, from, err = conn.ReadFrom(buf)
		}
		if err != nil {
			break
		}
		if _, err := conn.WriteTo(buf[:n], from); err != nil {
			return fmt.Errorf("helper: %w", err)
		}
		echoed++
	}
	if !reflect {
		return printJSON(map[string]int{"echoed": echoed})
	}
	return printJSON(map[string]any{"echoed": echoed, "tos": slices.Sorted(maps.Keys(seen))})
}

// send sends count datagrams to to and prints how many it sent.
func send(to string, count int) error {
	conn, err := net.Dial("udp", to)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	defer conn.Close()
	sent := 0
	for i := range count {
		if _, err := fmt.Fprintf(conn, "unpermitted %d", i); err != nil {
			return fmt.Errorf("helper: %w", err)
		}
		sent++
	}
	return printJSON(map[string]int{"sent": sent})
}

// dial tries a TCP connection to to and prints whether it connected and,
// if not, why.
func dial(to string, timeout time.Duration) error {
	result := struct {
		Connected bool   `json:"connected"`
		Error     string `json:"error,omitempty"`
	}{}
	conn, err := net.DialTimeout("tcp", to, timeout)
	if err != nil {
		result.Error = err.Error()
	} else {
		result.Connected = true
		conn.Close()
	}
	return printJSON(result)
}

// printJSON writes v as one JSON line on stdout.
func printJSON(v any) error {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	return nil
}
