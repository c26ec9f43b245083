package turntest

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// ClosedAt reads c until the other end closes it and sends when that was,
// or the zero Time when c was still open after Timeout.
func ClosedAt(c net.Conn) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(Timeout))
		_, err := io.Copy(io.Discard, c)
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			ch <- time.Time{}
			return
		}
		ch <- time.Now()
	}()
	return ch
}

// KeepWriting writes b to c every interval until the other end closes c,
// and returns when it did; the test fails if c is still open after
// Timeout. It shows that frames do not keep a connection open.
func KeepWriting(tb testing.TB, c net.Conn, b []byte, every time.Duration) time.Time {
	tb.Helper()
	closed := ClosedAt(c)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case at := <-closed:
			if at.IsZero() {
				tb.Fatalf("a connection written to every %v is still open after %v", every, Timeout)
			}
			return at
		case <-tick.C:
			_, _ = c.Write(b)
		}
	}
}
