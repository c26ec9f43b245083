package datapath

import (
	"net"
	"testing"
	"time"
)

func BenchmarkWriteTo(b *testing.B) { benchmarkWrite(b, 0) }

// BenchmarkWriteToTOS is BenchmarkWriteTo with a DSCP marking, which takes
// sendmsg(2) with a control message instead of sendto(2).
func BenchmarkWriteToTOS(b *testing.B) { benchmarkWrite(b, 0xB8) }

// benchmarkWrite sends 200-byte datagrams with WriteToTOS and tos to a
// socket that is never read: once its queue is full the kernel drops the
// datagrams, which costs the sender the same.
func benchmarkWrite(b *testing.B, tos uint8) {
	sink := listen(b, loop4, ListenConfig{})
	c := listen(b, loop4, ListenConfig{})
	payload := make([]byte, 200)
	to := sink.LocalAddr()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteToTOS(payload, to, tos); err != nil && err != ErrWouldBlock {
			b.Fatal(err)
		}
	}
}

// BenchmarkEcho measures a round trip from a client socket through a worker
// that echoes each datagram.
func BenchmarkEcho(b *testing.B) {
	c := listen(b, loop4, ListenConfig{})
	runWorker(b, echoHandler(), WorkerOptions{}, c)
	client, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(c.LocalAddr()))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	if err := client.SetDeadline(time.Now().Add(10 * time.Minute)); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 200)
	reply := make([]byte, 2048)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Write(payload); err != nil {
			b.Fatal(err)
		}
		if _, err := client.Read(reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueueTo is BenchmarkWriteTo through the send queue, as a handler
// writes during a round: the datagrams leave with one sendmmsg(2) per
// WorkerOptions.TxQueue (64) of them, as UDP GSO sends unless disabled.
func BenchmarkQueueTo(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts WorkerOptions
	}{
		{"gso", WorkerOptions{}},
		{"sendmmsg", WorkerOptions{DisableGSO: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sink := listen(b, loop4, ListenConfig{})
			c := listen(b, loop4, ListenConfig{})
			w, err := NewWorker(funcHandler{}, bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Add(c); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = w.Close() })
			payload := make([]byte, 200)
			to := sink.LocalAddr()
			w.batching = true // as during a round, on this goroutine
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.QueueTo(payload, to, 0); err != nil {
					b.Fatal(err)
				}
			}
			w.flushTx()
		})
	}
}
