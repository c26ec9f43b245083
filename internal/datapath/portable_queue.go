package datapath

import "net/netip"

// portableQueue holds the datagrams that handlers queue with Conn.QueueTo
// during one round of a portable worker, until the worker sends them one
// per call. It is allocated once: a byte slab the datagrams are copied into
// (the handler's buffer is only valid during its call), and per entry its
// Conn, destination and place in the slab. Only the worker goroutine
// touches it.
type portableQueue struct {
	slab  []byte
	used  int // bytes of slab taken by the queued datagrams
	n     int // queued datagrams
	conns []*Conn
	to    []netip.AddrPort
	ends  []int // each entry's end in slab; it starts where the previous ends
}

// newPortableQueue allocates a queue of up to size datagrams and slabBytes
// bytes.
func newPortableQueue(size, slabBytes int) portableQueue {
	return portableQueue{
		slab:  make([]byte, slabBytes),
		conns: make([]*Conn, size),
		to:    make([]netip.AddrPort, size),
		ends:  make([]int, size),
	}
}

// fits reports whether a datagram of size bytes can be queued without a
// flush first.
func (q *portableQueue) fits(size int) bool {
	return q.n < len(q.conns) && q.used+size <= len(q.slab)
}

// push copies b into the queue, to be sent on c to to. The caller checked
// fits.
func (q *portableQueue) push(c *Conn, b []byte, to netip.AddrPort) {
	q.used += copy(q.slab[q.used:], b)
	q.conns[q.n], q.to[q.n], q.ends[q.n] = c, to, q.used
	q.n++
}

// flush sends every queued datagram in queue order and counts the outcome
// on ctr, once per flush. The queue is empty afterwards.
func (q *portableQueue) flush(ctr *counters) {
	var packets, bytes, errs uint64
	start := 0
	for i := range q.n {
		c, b := q.conns[i], q.slab[start:q.ends[i]]
		start = q.ends[i]
		q.conns[i] = nil
		if c.closed.Load() {
			errs++
			continue
		}
		if _, err := c.udp.WriteToUDPAddrPort(b, q.to[i]); err != nil {
			errs++
			continue
		}
		packets++
		bytes += uint64(len(b))
	}
	q.n, q.used = 0, 0
	if packets != 0 {
		ctr.txBatches.Add(1)
		ctr.txPackets.Add(packets)
		ctr.txBytes.Add(bytes)
	}
	if errs != 0 {
		ctr.txErrors.Add(errs)
	}
}
