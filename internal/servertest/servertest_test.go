package servertest

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"
)

type runner struct{ stopped chan struct{} }

func (r *runner) Run(ctx context.Context) error {
	<-ctx.Done()
	close(r.stopped)
	return nil
}

// TestServeStopsAtTheEnd: the server runs during the test and is stopped by
// its cleanup.
func TestServeStopsAtTheEnd(t *testing.T) {
	r := &runner{stopped: make(chan struct{})}
	t.Run("inner", func(t *testing.T) {
		Serve(t, r)
		select {
		case <-r.stopped:
			t.Fatal("stopped before the test ended")
		default:
		}
	})
	select {
	case <-r.stopped:
	case <-time.After(StopTimeout):
		t.Fatal("not stopped after the test ended")
	}
}

func TestForwarder(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	fwd := Forwarder(t, peer.LocalAddr().(*net.UDPAddr).AddrPort())
	client, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	msg := binary.BigEndian.AppendUint32(nil, 7)
	msg = append(msg, "hello"...)
	if _, err := client.WriteToUDPAddrPort(msg, fwd); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = peer.SetReadDeadline(time.Now().Add(StopTimeout))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[4:n]) != "hello" || from != fwd {
		t.Fatalf("peer got %q from %v (%v)", buf[:n], from, err)
	}
	if _, err := peer.WriteToUDPAddrPort(buf[:n], fwd); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(StopTimeout))
	n, _, err = client.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[4:n]) != "hello" {
		t.Fatalf("client got %q (%v)", buf[:n], err)
	}
	// A call id the forwarder has not seen goes nowhere: the next datagram
	// the client gets is the one sent after it.
	if _, err := peer.WriteToUDPAddrPort(binary.BigEndian.AppendUint32(nil, 8), fwd); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WriteToUDPAddrPort(append(binary.BigEndian.AppendUint32(nil, 7), "again"...), fwd); err != nil {
		t.Fatal(err)
	}
	n, _, err = client.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[4:n]) != "again" {
		t.Fatalf("client got %q (%v), want only its own call's datagram", buf[:n], err)
	}
}
