package tcprelay

import (
	"io"
	"net"
	"sync"
)

// Splice serves a client data connection joined with its peer data
// connection (RFC 6062 §5.4): "Data received on it MUST be sent as-is to
// the associated peer data connection. Data received on the associated
// peer data connection MUST be sent as-is on this client data connection."
// first holds what the client sent after its ConnectionBind; toPeer and
// toClient write to the peer and to the client (the caller may shape
// them to a bandwidth cap). Each direction copies through a fixed buffer
// with blocking writes, on this goroutine and one more, so a side that does
// not read stops the other through the TCP windows and the relay holds at
// most one buffer per direction. When either side ends, end is called (it
// closes both connections; it may be called twice) and Splice returns once
// both directions have, with the bytes counted in ctr.
func Splice(ctr *Counters, client, peer net.Conn, first []byte, toPeer, toClient io.Writer, end func()) {
	ctr.DataOpen.Add(1)
	defer ctr.DataOpen.Add(-1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, _ := io.CopyBuffer(onlyWriter{toClient}, onlyReader{peer}, make([]byte, copyBuffer))
		ctr.ToClientBytes.Add(uint64(n))
		end()
	}()
	defer wg.Wait()
	if len(first) > 0 {
		n, err := toPeer.Write(first)
		ctr.ToPeerBytes.Add(uint64(n))
		if err != nil {
			end()
			return
		}
	}
	n, _ := io.CopyBuffer(onlyWriter{toPeer}, onlyReader{client}, make([]byte, copyBuffer))
	ctr.ToPeerBytes.Add(uint64(n))
	end()
}

// onlyReader and onlyWriter hide ReadFrom and WriteTo, so that
// io.CopyBuffer copies through its bounded buffer.
type onlyReader struct{ io.Reader }

type onlyWriter struct{ io.Writer }
