package datapath

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// GSO limits: the kernel takes at most udpMaxSegments segments per
// UDP_SEGMENT send (UDP_MAX_SEGMENTS), and the whole send must fit in one
// IP datagram; gsoMaxBytes stays below 65535 minus the IPv6 and UDP headers.
const (
	udpMaxSegments = 64
	gsoMaxBytes    = 65000
)

// gsoControlSize is the control buffer of one message of a flush: a
// UDP_SEGMENT message (a uint16) and an IP_TOS or IPV6_TCLASS message (an
// int), 24 bytes each on 64-bit Linux.
const gsoControlSize = 48

// txQueue holds the datagrams that handlers queue with Conn.QueueTo during
// one round of the worker loop, until the worker sends them with
// sendmmsg(2). It is allocated once: a byte slab the datagrams are copied
// into (the handler's buffer is only valid during its call), and per entry
// its socket, destination, TOS byte and place in the slab. Only the worker
// goroutine touches it.
type txQueue struct {
	slab  []byte
	used  int // bytes of slab taken by the queued datagrams
	n     int // queued datagrams
	conns []*Conn
	names []unix.RawSockaddrInet6
	nlens []uint32
	tos   []uint8
	bufs  []unix.Iovec // each entry's bytes in slab
	// gso is whether consecutive datagrams to one destination may leave
	// as one UDP_SEGMENT send: probed by NewWorker, and switched off for
	// good when such a send fails.
	gso bool

	// Scratch space of flush: the entries of one socket (idx), and the
	// messages built from them with their iovecs, control buffers, and
	// the number of entries and bytes each carries.
	idx   []int
	taken []bool
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	ctrl  [][gsoControlSize / 8]uint64 // 8-byte aligned, as cmsghdr needs
	segs  []int
	bytes []uint64
}

// newTxQueue allocates a queue of up to size datagrams and slabBytes bytes.
func newTxQueue(size, slabBytes int, gso bool) *txQueue {
	return &txQueue{
		slab:  make([]byte, slabBytes),
		conns: make([]*Conn, size),
		names: make([]unix.RawSockaddrInet6, size),
		nlens: make([]uint32, size),
		tos:   make([]uint8, size),
		bufs:  make([]unix.Iovec, size),
		gso:   gso,
		idx:   make([]int, size),
		taken: make([]bool, size),
		msgs:  make([]unix.Mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		ctrl:  make([][gsoControlSize / 8]uint64, size),
		segs:  make([]int, size),
		bytes: make([]uint64, size),
	}
}

// fits reports whether a datagram of size bytes can be queued without a
// flush first.
func (q *txQueue) fits(size int) bool {
	return q.n < len(q.conns) && q.used+size <= len(q.slab)
}

// push copies b into the queue, to be sent on c to the raw address sa (of
// length salen) with TOS byte tos (0: none). The caller checked fits.
func (q *txQueue) push(c *Conn, b []byte, sa *unix.RawSockaddrInet6, salen uintptr, tos uint8) {
	i := q.n
	copy(q.slab[q.used:], b)
	q.bufs[i].Base = unsafe.SliceData(q.slab[q.used:])
	q.bufs[i].SetLen(len(b))
	q.names[i] = *sa
	q.nlens[i] = uint32(salen)
	q.tos[i] = tos
	q.conns[i] = c
	q.used += len(b)
	q.n++
}

// flush sends every queued datagram, grouped by socket with one
// sendmmsg(2) per socket (more when the kernel sends part of a group),
// keeping the queue order within each socket, and counts the outcome on
// ctr. The queue is empty afterwards.
func (q *txQueue) flush(ctr *counters) {
	var t txTally
	for i := range q.n {
		if q.taken[i] {
			continue
		}
		c := q.conns[i]
		k := 0
		for j := i; j < q.n; j++ {
			if !q.taken[j] && q.conns[j] == c {
				q.idx[k] = j
				q.taken[j] = true
				k++
			}
		}
		if c.closed.Load() {
			// Misuse (a Conn closed without Remove): its descriptor
			// number may already name another socket.
			t.errors += uint64(k)
			continue
		}
		q.send(c, q.idx[:k], &t)
	}
	for i := range q.n {
		q.taken[i] = false
		q.conns[i] = nil
	}
	q.n, q.used = 0, 0
	t.add(ctr)
}

// send sends the entries idx of socket c. The entries of a UDP_SEGMENT
// send that fails are sent again one datagram each (a path MTU below the
// segment size fails with EMSGSIZE where single datagrams would be
// fragmented); when the failure means that the device or kernel cannot do
// GSO (EIO, ENOPROTOOPT, EOPNOTSUPP), GSO is switched off for good.
func (q *txQueue) send(c *Conn, idx []int, t *txTally) {
	for len(idx) > 0 {
		m := q.build(c.family, idx, q.gso)
		done, failed, e := t.sendmmsg(c.fd, q.msgs[:m], q.segs[:m], q.bytes[:m])
		if failed == 0 {
			return
		}
		t.gsoFallbacks++
		if e == unix.EIO || e == unix.ENOPROTOOPT || e == unix.EOPNOTSUPP {
			q.gso = false
		}
		idx = idx[done:]
		m = q.build(c.family, idx[:failed], false)
		t.sendmmsg(c.fd, q.msgs[:m], q.segs[:m], q.bytes[:m])
		idx = idx[failed:]
	}
}

// build turns the entries idx of one socket of family fam into messages
// (q.msgs, q.segs, q.bytes) and returns how many. With gso, a run of
// consecutive entries with the same destination and TOS byte whose sizes
// are equal, except that the last may be shorter, becomes one message
// with a UDP_SEGMENT control message: the kernel cuts it into datagrams of
// the first entry's size.
func (q *txQueue) build(fam int, idx []int, gso bool) int {
	m, v := 0, 0 // messages and iovecs used
	for k := 0; k < len(idx); {
		first := idx[k]
		size := q.bufs[first].Len
		total := size
		n := 1
		for gso && k+n < len(idx) && n < udpMaxSegments {
			e := idx[k+n]
			l := q.bufs[e].Len
			if q.bufs[idx[k+n-1]].Len != size || l > size || total+l > gsoMaxBytes ||
				q.tos[e] != q.tos[first] || q.nlens[e] != q.nlens[first] || q.names[e] != q.names[first] {
				break
			}
			total += l
			n++
		}
		for j := range n {
			q.iovs[v+j] = q.bufs[idx[k+j]]
		}
		h := &q.msgs[m].Hdr
		h.Name = (*byte)(unsafe.Pointer(&q.names[first]))
		h.Namelen = q.nlens[first]
		h.Iov = &q.iovs[v]
		h.SetIovlen(n)
		ctl := unsafe.Slice((*byte)(unsafe.Pointer(&q.ctrl[m])), gsoControlSize)
		clen := 0
		if n > 1 {
			clen += putCmsg(ctl[clen:], unix.SOL_UDP, unix.UDP_SEGMENT, uint32(size), 2)
		}
		if tos := q.tos[first]; tos != 0 {
			level, typ := unix.IPPROTO_IP, unix.IP_TOS
			if fam == unix.AF_INET6 {
				level, typ = unix.IPPROTO_IPV6, unix.IPV6_TCLASS
			}
			clen += putCmsg(ctl[clen:], level, typ, uint32(tos), tosControlData)
		}
		h.Control = nil
		if clen > 0 {
			h.Control = &ctl[0]
		}
		h.SetControllen(clen)
		q.segs[m], q.bytes[m] = n, total
		m++
		v += n
		k += n
	}
	return m
}

// putCmsg writes a control message of the given level and type whose data
// is val as a size-byte (2 or 4) native-endian integer into b, and returns
// the space it takes (CMSG_SPACE).
func putCmsg(b []byte, level, typ int, val uint32, size int) int {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(size))
	data := b[unix.CmsgLen(0):]
	if size == 2 {
		binary.NativeEndian.PutUint16(data, uint16(val))
	} else {
		binary.NativeEndian.PutUint32(data, val)
	}
	return unix.CmsgSpace(size)
}

// txTally sums the outcome of the sends of one flush, so that the shared
// counters are written once per flush.
type txTally struct {
	packets, bytes, batches, errors, wouldBlock uint64
	gsoSends, gsoSegments, gsoFallbacks         uint64
}

// sendmmsg sends msgs on fd, retrying on EINTR; segs and bytes give the
// datagrams and bytes of each message. A message the kernel refuses is
// counted and skipped; on EAGAIN (socket buffer full) the rest of msgs is
// dropped and counted as would-block. When a UDP_SEGMENT message fails
// otherwise, it stops and returns the number of entries sent or counted
// before that message, the entries of that message and the error.
func (t *txTally) sendmmsg(fd int, msgs []unix.Mmsghdr, segs []int, bytes []uint64) (entries, failed int, errno unix.Errno) {
	for len(msgs) > 0 {
		r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), // non-blocking socket: see worker.go
			uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), 0, 0, 0)
		switch e {
		case 0:
			sent := int(r)
			t.batches++
			for i := range sent {
				t.packets += uint64(segs[i])
				t.bytes += bytes[i]
				entries += segs[i]
				if segs[i] > 1 {
					t.gsoSends++
					t.gsoSegments += uint64(segs[i])
				}
			}
			msgs, segs, bytes = msgs[sent:], segs[sent:], bytes[sent:]
		case unix.EINTR:
		case unix.EAGAIN:
			for _, n := range segs {
				t.wouldBlock += uint64(n)
			}
			return entries, 0, e
		default:
			// sendmmsg reports an error only for the first message of
			// the call.
			if segs[0] > 1 {
				return entries, segs[0], e
			}
			t.errors++
			entries += segs[0]
			msgs, segs, bytes = msgs[1:], segs[1:], bytes[1:]
		}
	}
	return entries, 0, 0
}

// add publishes the tally on ctr.
func (t *txTally) add(ctr *counters) {
	for _, f := range [...]struct {
		n   uint64
		ctr *atomic.Uint64
	}{
		{t.packets, &ctr.txPackets},
		{t.bytes, &ctr.txBytes},
		{t.batches, &ctr.txBatches},
		{t.errors, &ctr.txErrors},
		{t.wouldBlock, &ctr.txWouldBlock},
		{t.gsoSends, &ctr.txGSOSends},
		{t.gsoSegments, &ctr.txGSOSegments},
		{t.gsoFallbacks, &ctr.txGSOFallbacks},
	} {
		if f.n != 0 {
			f.ctr.Add(f.n)
		}
	}
}

// probeGSO reports whether the kernel knows UDP_SEGMENT, by setting it on
// a throwaway socket.
func probeGSO() bool {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT, 1200) == nil
}
