package datapath

import (
	"net/netip"
	"testing"
	"time"
)

// TestWorkerRxDropped floods a socket with a tiny receive buffer before
// its worker runs, then sends one datagram that carries the kernel's drop
// count (SO_RXQ_OVFL): the worker's RxDropped matches what the kernel
// reports for the socket. A socket without RecvDrops counts nothing.
func TestWorkerRxDropped(t *testing.T) {
	for _, recvDrops := range []bool{true, false} {
		c := listen(t, loop4, ListenConfig{RecvBuffer: 1, RecvDrops: recvDrops})
		src := listen(t, loop4, ListenConfig{})
		payload := make([]byte, 1000)
		for range 100 {
			if err := src.WriteTo(payload, c.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		dropped := kernelDrops(t, c)
		if dropped == 0 {
			t.Fatal("the kernel dropped nothing on a socket with a tiny receive buffer")
		}
		flood, last := make(chan struct{}, 1), make(chan struct{})
		h := funcHandler{packet: func(_ *Conn, _ netip.AddrPort, _ []byte, _, n int) {
			switch n {
			case len(payload):
				select {
				case flood <- struct{}{}:
				default:
				}
			case 1:
				close(last)
			}
		}}
		w, stop := runWorker(t, h, WorkerOptions{}, c)
		// The flood is drained (one recvmmsg takes what the tiny queue
		// held, and the round ends before Do runs) before the trailing
		// datagram is sent: it needs room in the queue.
		select {
		case <-flood:
		case <-time.After(testTimeout):
			t.Fatal("flood not delivered")
		}
		onWorker(t, w, func() {})
		if err := src.WriteTo([]byte{1}, c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-last:
		case <-time.After(testTimeout):
			t.Fatal("trailing datagram not delivered")
		}
		stop()
		want := dropped
		if !recvDrops {
			want = 0
		}
		if got := w.Stats().RxDropped; got != want {
			t.Fatalf("RecvDrops %v: RxDropped = %d, want %d (kernel: %d)", recvDrops, got, want, dropped)
		}
	}
}
