package server

import (
	"io"
	"sync"
	"time"
)

// relayData serves a client data connection (RFC 6062 §5.4): "Data
// received on it MUST be sent as-is to the associated peer data
// connection. Data received on the associated peer data connection MUST be
// sent as-is on this client data connection." first holds what the client
// sent after its ConnectionBind. It runs on the reader goroutine, with one
// more goroutine for the other direction; each direction copies through a
// fixed buffer with blocking writes, so a side that does not read stops the
// other through the TCP windows and the relay holds at most one buffer per
// direction. When either side ends, both connections close.
func (c *streamConn) relayData(first []byte) {
	p, pn := c.bound, c.peerNC
	tcp := c.srv.env.tcp
	defer p.release()
	// The ConnectionBind response goes out before any peer data.
	close(c.raw)
	select {
	case <-c.writerDone:
	case <-c.done:
		return
	}
	_ = c.nc.SetDeadline(time.Time{})
	tcp.ctr.dataOpen.Add(1)
	defer tcp.ctr.dataOpen.Add(-1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, _ := io.CopyBuffer(onlyWriter{c.nc}, onlyReader{pn}, make([]byte, tcpCopyBuffer))
		tcp.ctr.toClientBytes.Add(uint64(n))
		p.release()
	}()
	if len(first) > 0 {
		n, err := pn.Write(first)
		tcp.ctr.toPeerBytes.Add(uint64(n))
		if err != nil {
			p.release()
			wg.Wait()
			return
		}
	}
	n, _ := io.CopyBuffer(onlyWriter{pn}, onlyReader{c.nc}, make([]byte, tcpCopyBuffer))
	tcp.ctr.toPeerBytes.Add(uint64(n))
	p.release()
	wg.Wait()
}

// onlyReader and onlyWriter hide ReadFrom and WriteTo, so that io.CopyBuffer
// copies through its bounded buffer.
type onlyReader struct{ io.Reader }

type onlyWriter struct{ io.Writer }
