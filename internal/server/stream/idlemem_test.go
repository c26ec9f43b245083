package stream

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/server/stats"
)

// idleClientsEnv, set in the environment of this test binary, makes it
// the client process of BenchmarkIdleConnections instead of running
// tests: "address count mode [CA file]".
const idleClientsEnv = "AVEDGE_STREAM_IDLE_CLIENTS"

// idleConns is the number of connections BenchmarkIdleConnections opens.
const idleConns = 300

func TestMain(m *testing.M) {
	if spec := os.Getenv(idleClientsEnv); spec != "" {
		if err := idleClients(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// idleClients opens the connections spec asks for, each of which sends
// what its mode says ("answered": a frame, and reads its echo;
// "sniffed": a first byte that begins a frame), prints "ready" and holds
// them until its standard input closes.
func idleClients(spec string) error {
	f := strings.Fields(spec)
	if len(f) < 3 {
		return fmt.Errorf("bad %s %q", idleClientsEnv, spec)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return err
	}
	var cfg *tls.Config
	if len(f) == 4 {
		pem, err := os.ReadFile(f[3])
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cfg = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	}
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.DialTimeout("tcp", f[0], 5*time.Second)
		if err != nil {
			return err
		}
		if cfg != nil {
			tc := tls.Client(c, cfg)
			if err := tc.Handshake(); err != nil {
				return err
			}
			c = tc
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		switch f[2] {
		case "answered":
			if _, err := c.Write([]byte{3, 'a', 'b', 'c'}); err != nil {
				return err
			}
			if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
				return err
			}
		default:
			if _, err := c.Write([]byte{3}); err != nil {
				return err
			}
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		_ = c.Close()
	}
	return nil
}

// echoHandler echoes frames and signals each connection it opens.
type echoHandler struct{ opened chan struct{} }

func (h echoHandler) Opened(*Conn) error {
	h.opened <- struct{}{}
	return nil
}

func (echoHandler) Deliver(c *Conn, frames []byte) (int, RawFunc, bool) {
	_ = c.Write(frames)
	return len(frames), nil, true
}

func (echoHandler) Closed(*Conn) {}

// BenchmarkIdleConnections measures what an idle connection without an
// allocation costs the server: 300 connections from another process
// (so that the clients' memory is not counted) to a Server on loopback,
// each idle after its first frame was answered ("answered") or after a
// first byte only ("sniffed"), over TCP and TLS. It reports the live heap
// (after a GC), the goroutine stacks and the goroutines per connection.
//
//	go test -run='^$' -bench=IdleConnections -benchtime=1x ./internal/server/stream/
func BenchmarkIdleConnections(b *testing.B) {
	for _, transport := range []string{"tcp", "tls"} {
		for _, mode := range []string{"answered", "sniffed"} {
			b.Run(transport+"/"+mode, func(b *testing.B) {
				var heap, stack, goroutines float64
				for range b.N {
					h, s, g := idleCost(b, transport == "tls", mode)
					heap, stack, goroutines = heap+h, stack+s, goroutines+g
				}
				n := float64(b.N)
				b.ReportMetric(heap/n, "heap-B/conn")
				b.ReportMetric(stack/n, "stack-B/conn")
				b.ReportMetric(goroutines/n, "goroutines/conn")
			})
		}
	}
}

// idleCost opens idleConns idle connections from a client process and
// returns the growth of the live heap, of the goroutine stacks and of the
// goroutines, per connection.
func idleCost(b *testing.B, useTLS bool, mode string) (heap, stack, goroutines float64) {
	b.StopTimer()
	h := echoHandler{opened: make(chan struct{}, idleConns)}
	sniffer := claimFirst(3, stats.TransportTCP)
	var caFile string
	if useTLS {
		cert, ca := testCert(b)
		caFile = filepath.Join(b.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, pki.EncodeCertificate(ca.Cert), 0o600); err != nil {
			b.Fatal(err)
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		sniffer = TLS(cfg, Protocol{Framer: lengthFramed})
	}
	s, err := Listen(Options{
		Listeners: []Listener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Sniffers: []Sniffer{sniffer}}},
		Limits:    Limits{ConnectionsPerSource: 2 * idleConns, ConnectionRate: -1},
		Handler:   h,
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Run()
	defer s.Stop()

	before := memNow()
	spec := fmt.Sprintf("%s %d %s %s", s.Addrs()[0], idleConns, mode, caFile)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), idleClientsEnv+"="+spec)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("client process: %q, %v", line, err)
	}
	for range idleConns {
		select {
		case <-h.opened:
		case <-time.After(10 * time.Second):
			b.Fatal("connections not opened")
		}
	}
	after := memNow()
	n := float64(idleConns)
	return float64(after.heap-before.heap) / n, float64(after.stack-before.stack) / n,
		float64(after.goroutines-before.goroutines) / n
}

// memSample is the process's live heap, goroutine stacks and goroutines.
type memSample struct{ heap, stack, goroutines int64 }

// memNow samples memory after a collection.
func memNow() memSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{heap: int64(ms.HeapAlloc), stack: int64(ms.StackInuse), goroutines: int64(runtime.NumGoroutine())}
}
