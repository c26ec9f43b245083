//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// echoPeer echoes every datagram back to its sender until closed.
func echoPeer(t *testing.T) *net.UDPConn {
	t.Helper()
	p, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := p.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if _, err := p.WriteToUDPAddrPort(buf[:n], from); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { p.Close() })
	return p
}

func startForwarder(t *testing.T, peer *net.UDPAddr, workers int) *Forwarder {
	t.Helper()
	f, err := Listen(context.Background(), "127.0.0.1:0", peer, workers, 16)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Serve() }()
	t.Cleanup(func() {
		f.Close()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("Serve = %v, want ErrClosed", err)
		}
	})
	return f
}

func TestForwardsBothWays(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			peer := echoPeer(t)
			f := startForwarder(t, peer.LocalAddr().(*net.UDPAddr), workers)
			const packets = 5
			for call := uint32(1); call <= 3; call++ {
				c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(f.Addr()))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				for seq := range packets {
					want := binary.BigEndian.AppendUint32(nil, call)
					want = append(want, byte(seq), 0xAB, 0xCD)
					if _, err := c.Write(want); err != nil {
						t.Fatal(err)
					}
					got := make([]byte, 64)
					n, err := c.Read(got)
					if err != nil {
						t.Fatalf("call %d packet %d: %v", call, seq, err)
					}
					if !bytes.Equal(got[:n], want) {
						t.Fatalf("call %d: got %x, want %x", call, got[:n], want)
					}
				}
			}
		})
	}
}

func TestDropsShortAndForeign(t *testing.T) {
	peer := echoPeer(t)
	w := &worker{peer: fromAddrPort(peer.LocalAddr().(*net.UDPAddr).AddrPort()), calls: newCalls(1)}
	client := fromAddrPort(peer.LocalAddr().(*net.UDPAddr).AddrPort())
	client.Port++
	tests := []struct {
		name     string
		from     unix.RawSockaddrInet4
		pkt      []byte
		route    func(*batch, int) int
		wantKept int
	}{
		{"short to peer", client, []byte{0, 0, 1}, w.toPeer, 0},
		{"to peer", client, []byte{0, 0, 0, 7, 1}, w.toPeer, 1},
		{"second call beyond bound", client, []byte{0, 0, 0, 8, 1}, w.toPeer, 1},
		{"reply to known call", w.peer, []byte{0, 0, 0, 7, 1}, w.toClient, 1},
		{"reply to unknown call", w.peer, []byte{0, 0, 0, 8, 1}, w.toClient, 0},
		{"reply from a stranger", client, []byte{0, 0, 0, 7, 1}, w.toClient, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBatch(1, 64)
			b.lens[0] = copy(b.bufs[0], tt.pkt)
			b.names[0] = tt.from
			if got := tt.route(b, 1); got != tt.wantKept {
				t.Fatalf("kept %d, want %d", got, tt.wantKept)
			}
			if tt.wantKept == 1 && tt.pkt[3] == 7 && int(b.hs[0].hdr.Iov.Len) != len(tt.pkt) {
				t.Fatalf("iov len %d, want %d", b.hs[0].hdr.Iov.Len, len(tt.pkt))
			}
		})
	}
}

func TestRoutingDoesNotAllocate(t *testing.T) {
	peerAP := fromAddrPort(netipMust("127.0.0.1:9"))
	w := &worker{peer: peerAP, calls: newCalls(4)}
	b := newBatch(batchSize, maxPacket)
	fill := func(from unix.RawSockaddrInet4) {
		for i := range batchSize {
			b.resetOut(i)
			b.lens[i] = 172
			binary.BigEndian.PutUint32(b.bufs[i], uint32(i%4))
			b.names[i] = from
		}
	}
	client := fromAddrPort(netipMust("127.0.0.1:4000"))
	if n := testing.AllocsPerRun(100, func() { fill(client); w.toPeer(b, batchSize) }); n != 0 {
		t.Errorf("toPeer: %v allocs per batch", n)
	}
	if n := testing.AllocsPerRun(100, func() { fill(peerAP); w.toClient(b, batchSize) }); n != 0 {
		t.Errorf("toClient: %v allocs per batch", n)
	}
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
