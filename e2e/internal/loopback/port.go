package loopback

import (
	"net"
	"sync"
	"testing"
	"time"
)

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago and
// that it has not returned before in this process.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		handed.mu.Lock()
		fresh := !handed.ports[port]
		handed.ports[port] = true
		handed.mu.Unlock()
		if fresh {
			return port
		}
	}
	t.Fatal("the kernel offered only ports FreePort had handed out before")
	return 0
}

// handed are the ports FreePort returned in this process: the kernel may
// offer a closed port again at once, and two servers of one test given the
// same port collide (seen: Pebble took the edge's TLS port).
var handed = struct {
	mu    sync.Mutex
	ports map[int]bool
}{ports: make(map[int]bool)}

// WaitTCP waits until addr accepts TCP connections, failing the test after
// limit: for servers that say nothing when they are up.
func WaitTCP(t testing.TB, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections after %v: %v", addr, limit, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a port: no other signal
	}
}
