// Command peer is the external-side helper of the network-namespace test
// (e2e/netns): run in the peer namespace, it echoes UDP datagrams, sends
// datagrams to an address, or tries a TCP connection, and prints its result
// as one JSON line on stdout.
//
// Usage:
//
//	peer echo -listen ADDR -count N -timeout D
//	peer send -to ADDR -count N
//	peer dial -to ADDR -timeout D
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

// errUsage reports a missing or unknown mode.
var errUsage = errors.New("peer: usage: peer echo|send|dial [flags]")

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
	listen := fs.String("listen", "", "UDP address to echo on")
	to := fs.String("to", "", "address to send to or dial")
	count := fs.Int("count", 1, "datagrams to echo or send")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	switch args[0] {
	case "echo":
		return echo(*listen, *count, *timeout)
	case "send":
		return send(*to, *count)
	case "dial":
		return dial(*to, *timeout)
	}
	return errUsage
}

// echo answers up to count datagrams on listen with their own bytes, then
// prints how many it echoed. It prints {"listening":true} first, once the
// socket is bound, and stops at the deadline.
func echo(listen string, count int, timeout time.Duration) error {
	conn, err := net.ListenPacket("udp4", listen)
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	defer conn.Close()
	if err := printJSON(map[string]bool{"listening": true}); err != nil {
		return err
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	buf := make([]byte, 1500)
	echoed := 0
	for echoed < count {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			break
		}
		if _, err := conn.WriteTo(buf[:n], from); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		echoed++
	}
	return printJSON(map[string]int{"echoed": echoed})
}

// send sends count datagrams to to and prints how many it sent.
func send(to string, count int) error {
	conn, err := net.Dial("udp4", to)
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	defer conn.Close()
	sent := 0
	for i := range count {
		if _, err := fmt.Fprintf(conn, "unpermitted %d", i); err != nil {
			return fmt.Errorf("peer: %w", err)
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
		return fmt.Errorf("peer: %w", err)
	}
	return nil
}
