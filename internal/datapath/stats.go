package datapath

import "sync/atomic"

// Stats is a snapshot of one worker's counters. Counters are kept per worker
// and summed when read (see Add).
type Stats struct {
	// RxPackets counts datagrams delivered to the Handler.
	RxPackets uint64
	// RxBytes counts the payload bytes of the delivered datagrams.
	RxBytes uint64
	// RxBatches counts recvmmsg(2) calls that returned at least one
	// datagram (on the portable path, rounds that delivered at least one).
	RxBatches uint64
	// RxTruncated counts datagrams larger than WorkerOptions.MaxPacket; they
	// are dropped, not delivered.
	RxTruncated uint64
	// RxErrors counts failed reads: recvmmsg(2) failures other than
	// EAGAIN and EINTR, or failed reads of the portable path.
	RxErrors uint64
	// RxDropped counts datagrams the kernel dropped because the receive
	// queue of one of the worker's Conns was full, on Conns opened with
	// ListenConfig.RecvDrops. The kernel reports its running count
	// (SO_RXQ_OVFL) with each datagram it queues, so drops show up once
	// the next datagram on that Conn is read.
	RxDropped uint64
	// TxPackets counts datagrams sent by Conn.WriteTo, Conn.WriteToTOS and
	// Conn.QueueTo on the worker's Conns.
	TxPackets uint64
	// TxBytes counts the bytes of the sent datagrams.
	TxBytes uint64
	// TxBatches counts sendmmsg(2) calls that sent datagrams queued with
	// Conn.QueueTo (on the portable path, flushes of the queue that sent
	// at least one).
	TxBatches uint64
	// TxErrors counts failed sends other than ErrWouldBlock, including
	// destinations of the wrong address family.
	TxErrors uint64
	// TxWouldBlock counts sends dropped because the socket buffer was full.
	TxWouldBlock uint64
	// TxGSOSends counts UDP_SEGMENT sends: runs of queued datagrams to one
	// destination that the kernel cut into datagrams (UDP GSO).
	TxGSOSends uint64
	// TxGSOSegments counts the datagrams sent by UDP_SEGMENT sends (they
	// are in TxPackets too).
	TxGSOSegments uint64
	// TxGSOFallbacks counts UDP_SEGMENT sends that failed and were sent
	// again one datagram each.
	TxGSOFallbacks uint64
	// BatchDelays counts the waits of WorkerOptions.BatchDelay.
	BatchDelays uint64
}

// Add returns the field-wise sum of s and o, for totals over workers.
func (s Stats) Add(o Stats) Stats {
	return Stats{
		RxPackets:    s.RxPackets + o.RxPackets,
		RxBytes:      s.RxBytes + o.RxBytes,
		RxBatches:    s.RxBatches + o.RxBatches,
		RxTruncated:  s.RxTruncated + o.RxTruncated,
		RxErrors:     s.RxErrors + o.RxErrors,
		RxDropped:    s.RxDropped + o.RxDropped,
		TxPackets:    s.TxPackets + o.TxPackets,
		TxBytes:      s.TxBytes + o.TxBytes,
		TxBatches:    s.TxBatches + o.TxBatches,
		TxErrors:     s.TxErrors + o.TxErrors,
		TxWouldBlock: s.TxWouldBlock + o.TxWouldBlock,

		TxGSOSends:     s.TxGSOSends + o.TxGSOSends,
		TxGSOSegments:  s.TxGSOSegments + o.TxGSOSegments,
		TxGSOFallbacks: s.TxGSOFallbacks + o.TxGSOFallbacks,
		BatchDelays:    s.BatchDelays + o.BatchDelays,
	}
}

// counters are the live, atomically updated counters of one worker. The
// receive counters are written only by the worker goroutine; the transmit
// counters by whichever goroutine calls Conn.WriteTo, and by the worker
// goroutine once per flush of its send queue.
type counters struct {
	rxPackets    atomic.Uint64
	rxBytes      atomic.Uint64
	rxBatches    atomic.Uint64
	rxTruncated  atomic.Uint64
	rxErrors     atomic.Uint64
	rxDropped    atomic.Uint64
	txPackets    atomic.Uint64
	txBytes      atomic.Uint64
	txBatches    atomic.Uint64
	txErrors     atomic.Uint64
	txWouldBlock atomic.Uint64

	txGSOSends     atomic.Uint64
	txGSOSegments  atomic.Uint64
	txGSOFallbacks atomic.Uint64
	batchDelays    atomic.Uint64
}

// snapshot reads every counter.
func (c *counters) snapshot() Stats {
	return Stats{
		RxPackets:    c.rxPackets.Load(),
		RxBytes:      c.rxBytes.Load(),
		RxBatches:    c.rxBatches.Load(),
		RxTruncated:  c.rxTruncated.Load(),
		RxErrors:     c.rxErrors.Load(),
		RxDropped:    c.rxDropped.Load(),
		TxPackets:    c.txPackets.Load(),
		TxBytes:      c.txBytes.Load(),
		TxBatches:    c.txBatches.Load(),
		TxErrors:     c.txErrors.Load(),
		TxWouldBlock: c.txWouldBlock.Load(),

		TxGSOSends:     c.txGSOSends.Load(),
		TxGSOSegments:  c.txGSOSegments.Load(),
		TxGSOFallbacks: c.txGSOFallbacks.Load(),
		BatchDelays:    c.batchDelays.Load(),
	}
}
