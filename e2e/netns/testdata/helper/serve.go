package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxDatagram bounds the datagrams the UDP echo of serve reads.
const maxDatagram = 1500

// arrivals counts what reached the services of serve, by "PROTO AT from
// SOURCE-IP" (such as "tcp 10.99.2.1:80 from 10.99.2.2"): each UDP
// datagram and each accepted TCP connection.
type arrivals struct {
	mu     sync.Mutex
	counts map[string]int
}

// add counts one arrival on at from src.
func (a *arrivals) add(proto, at string, src net.Addr) {
	ip := src.String()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	a.mu.Lock()
	a.counts[fmt.Sprintf("%s %s from %s", proto, at, ip)]++
	a.mu.Unlock()
}

// countingListener counts the connections its listener accepts.
type countingListener struct {
	net.Listener
	seen *arrivals
}

// Accept accepts the next connection and counts it.
func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.seen.add("tcp", l.Addr().String(), c.RemoteAddr())
	}
	return c, err
}

// serve runs, on each address of listen (comma-separated IP:port), a UDP
// echo and an HTTP server that answers every request with "served by
// ADDR"; it prints {"listening":true} once all are bound. At a line (or
// end of file) on stdin, or after timeout, it stops them and prints
// {"received":{...}}: the datagrams and TCP connections that arrived, by
// protocol, address and source IP.
func serve(listen string, timeout time.Duration, stdin io.Reader) error {
	seen := &arrivals{counts: make(map[string]int)}
	var (
		wg      sync.WaitGroup
		closers []io.Closer
	)
	stop := func() {
		for _, c := range closers {
			c.Close()
		}
		wg.Wait()
	}
	for addr := range strings.SplitSeq(listen, ",") {
		pc, err := net.ListenPacket("udp4", addr)
		if err != nil {
			stop()
			return fmt.Errorf("helper: %w", err)
		}
		closers = append(closers, pc)
		wg.Go(func() { echoAll(pc, seen) })
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			stop()
			return fmt.Errorf("helper: %w", err)
		}
		body := "served by " + addr
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, body)
			}),
			ReadHeaderTimeout: timeout,
		}
		closers = append(closers, srv)
		wg.Go(func() { _ = srv.Serve(countingListener{Listener: ln, seen: seen}) })
	}
	if err := printJSON(map[string]bool{"listening": true}); err != nil {
		stop()
		return err
	}
	done := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(stdin).ReadString('\n')
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
	}
	stop()
	seen.mu.Lock()
	defer seen.mu.Unlock()
	return printJSON(map[string]map[string]int{"received": seen.counts})
}

// echoAll counts and echoes every datagram that reaches pc until pc is
// closed.
func echoAll(pc net.PacketConn, seen *arrivals) {
	at := pc.LocalAddr().String()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		seen.add("udp", at, from)
		_, _ = pc.WriteTo(buf[:n], from)
	}
}
