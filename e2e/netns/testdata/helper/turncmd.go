package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/avedge/avedge/internal/stunproto"
)

// maxBody bounds the HTTP body connect reads from a peer.
const maxBody = 1024

// errCommand reports a malformed command on the standard input of the
// turn mode.
var errCommand = errors.New("helper: bad turn command")

// turnMode runs the turn mode: it allocates (a UDP allocation over UDP,
// an RFC 6062 TCP allocation over TCP), prints {"relayed":ADDR}, then
// runs the commands of stdin, one a line, printing one JSON line for
// each:
//
//	permit ADDR       CreatePermission          {"code":N}
//	bind ADDR         ChannelBind               {"code":N}
//	send ADDR TEXT    Send indication           {"sent":true}
//	chan ADDR TEXT    ChannelData (bound ADDR)  {"sent":true}
//	recv              data relayed from a peer  {"received":true,"from":ADDR,"data":TEXT}, or {"received":false} after -timeout
//	                                            (with -tos, also "tos":N, the TOS byte or Traffic Class it arrived with)
//	attempt           a ConnectionAttempt       {"attempt":true,"from":ADDR}, or {"attempt":false} after -timeout
//	connect ADDR      RFC 6062 Connect          {"code":N}; on success ConnectionBind and an HTTP GET through it: {"code":0,"status":S,"body":B} (or {"code":0,"error":E})
//
// N is the ERROR-CODE of the answer, 0 for a success.
func turnMode(rc relayConfig, transport string, stdin io.Reader) error {
	var network string
	var protocol uint8
	switch transport {
	case "udp":
		network, protocol = "udp", stunproto.ProtoUDP
	case "tcp":
		network, protocol = "tcp", stunproto.ProtoTCP
	default:
		return fmt.Errorf("%w: -transport %q", errUsage, transport)
	}
	family := stunproto.FamilyIPv4
	switch rc.family {
	case 4:
	case 6:
		family = stunproto.FamilyIPv6
	default:
		return fmt.Errorf("%w: -family %d", errUsage, rc.family)
	}
	conn, err := net.DialTimeout(network+strconv.Itoa(rc.family), rc.server, rc.timeout)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	defer conn.Close()
	c := newRawClient(conn, rc.user, rc.password, rc.realm, rc.timeout)
	if rc.tos != -1 {
		udp, ok := conn.(*net.UDPConn)
		if !ok {
			return fmt.Errorf("%w: -tos needs -transport udp", errUsage)
		}
		if c.tos, err = newTOSSocket(udp); err != nil {
			return err
		}
		if err := c.tos.set(rc.tos); err != nil {
			return err
		}
	}
	relayed, err := c.allocate(protocol, family)
	if err != nil {
		return err
	}
	if err := printJSON(map[string]string{"relayed": relayed.String()}); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		answer, err := c.run(strings.Fields(sc.Text()))
		if err != nil {
			return err
		}
		if err := printJSON(answer); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	return nil
}

// run runs one command of the turn mode and returns its answer.
func (c *rawClient) run(args []string) (map[string]any, error) {
	if len(args) == 0 {
		return nil, errCommand
	}
	want := map[string]int{"permit": 2, "bind": 2, "send": 3, "chan": 3, "recv": 1, "attempt": 1, "connect": 2}
	if n, ok := want[args[0]]; !ok || len(args) != n {
		return nil, fmt.Errorf("%w: %q", errCommand, args)
	}
	switch args[0] {
	case "recv":
		d, ok, err := c.receive()
		if err != nil || !ok {
			return map[string]any{"received": false}, err
		}
		answer := map[string]any{"received": true, "from": d.from.String(), "data": d.data}
		if c.tos != nil {
			answer["tos"] = d.tos
		}
		return answer, nil
	case "attempt":
		peer, ok, err := c.attempt()
		if err != nil || !ok {
			return map[string]any{"attempt": false}, err
		}
		return map[string]any{"attempt": true, "from": peer.String()}, nil
	}
	peer, err := netip.ParseAddrPort(args[1])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCommand, err)
	}
	var ec int
	switch args[0] {
	case "permit":
		ec, err = c.permit(peer)
	case "bind":
		ec, err = c.bind(peer)
	case "send":
		return map[string]any{"sent": true}, c.send(peer, args[2])
	case "chan":
		return map[string]any{"sent": true}, c.channelData(peer, args[2])
	case "connect":
		return c.connectHTTP(peer)
	}
	return map[string]any{"code": ec}, err
}

// connectHTTP Connects to peer and, on success, binds a data connection to
// it and sends an HTTP GET through it; it returns the Connect's error code
// and the HTTP status and body, or why the GET failed.
func (c *rawClient) connectHTTP(peer netip.AddrPort) (map[string]any, error) {
	ec, id, err := c.connect(peer)
	if err != nil || ec != 0 {
		return map[string]any{"code": ec}, err
	}
	conn, err := c.bindConnection(id)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	status, body, err := getThrough(conn, peer, c.timeout)
	if err != nil {
		return map[string]any{"code": 0, "error": err.Error()}, nil
	}
	return map[string]any{"code": 0, "status": status, "body": body}, nil
}

// getThrough sends an HTTP GET for / of peer on conn and returns the status and
// body of the answer.
func getThrough(conn net.Conn, peer netip.AddrPort, timeout time.Duration) (status, body string, err error) {
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", "", fmt.Errorf("helper: %w", err)
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+peer.String()+"/", nil)
	if err != nil {
		return "", "", fmt.Errorf("helper: %w", err)
	}
	req.Close = true
	if err := req.Write(conn); err != nil {
		return "", "", fmt.Errorf("helper: GET through the relay: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return "", "", fmt.Errorf("helper: GET through the relay: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", "", fmt.Errorf("helper: GET through the relay: %w", err)
	}
	return resp.Status, string(b), nil
}
