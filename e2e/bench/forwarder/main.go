//go:build linux

// Command forwarder is the "no TURN at all" ceiling of e2e/bench/compare: a bare
// UDP forwarder with recvmmsg/sendmmsg batching and one SO_REUSEPORT socket
// per core, against which the TURN servers' cost per packet is measured.
//
// Every datagram from a client goes to --peer; the first 4 bytes of a
// datagram are its call id (big-endian). The forwarder learns call id →
// client address from client datagrams and returns each datagram from the
// peer to the client of its call id. It is driven by `avedge bench --raw`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// ErrUsage reports bad command-line arguments.
var ErrUsage = errors.New("forwarder: usage")

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run parses args, starts one worker per socket and forwards until SIGINT or
// SIGTERM.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("forwarder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:3478", "UDP address clients send to")
	peer := fs.String("peer", "", "UDP address every client datagram is forwarded to (required)")
	workers := fs.Int("workers", runtime.NumCPU(), "sockets and goroutines (one per core)")
	calls := fs.Int("max-calls", 1<<16, "call ids remembered (bounded map)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if *peer == "" || *workers < 1 || *calls < 1 {
		return fmt.Errorf("%w: --peer is required, --workers and --max-calls must be positive", ErrUsage)
	}
	peerAddr, err := net.ResolveUDPAddr("udp4", *peer)
	if err != nil {
		return fmt.Errorf("forwarder: peer: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	f, err := Listen(ctx, *listen, peerAddr, *workers, *calls)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "forwarder: listening on %s, peer %s, %d workers\n", f.Addr(), peerAddr, *workers)
	errc := make(chan error, 1)
	go func() { errc <- f.Serve() }()
	select {
	case <-ctx.Done():
		f.Close()
		<-errc
		return nil
	case err := <-errc:
		f.Close()
		return err
	}
}
