package bench

import (
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/avedge/avedge/internal/stunproto"
)

// recvBatch is the number of datagrams a call's receiver reads per system
// call.
const recvBatch = 32

// call is one media stream: a socket (with its allocation unless raw), the
// channel bound to the peer, and its sequence counter.
type call struct {
	id      uint32
	sock    *socket
	dst     *net.UDPAddr
	channel uint16 // 0 when raw
	tc      *turnClient
	seq     uint64 // owned by the call's sender goroutine
	done    chan struct{}
	stop    atomic.Bool
}

// headroom is the bytes before the payload: the ChannelData header unless
// raw (RFC 8656 §12.4).
func (c *call) headroom() int {
	if c.channel == 0 {
		return 0
	}
	return 4
}

// shape is a media pattern: every period, burst packets of size payload
// bytes per call; period 0 sends back to back.
type shape struct {
	period time.Duration
	burst  int
	size   int
}

// sendGroup sends sh to calls until the measuring window ends or the run
// halts. A positive period is split into slots so that calls send at evenly
// spread phases.
func (r *run) sendGroup(calls []*call, sh shape) {
	ms := newMessages(sh.burst, 4+sh.size)
	if sh.period == 0 {
		for r.sending() {
			for _, c := range calls {
				r.sendBurst(c, ms, sh)
			}
		}
		return
	}
	if r.cfg.Arrivals == ArrivalsPoisson {
		r.sendPoisson(calls, sh, ms)
		return
	}
	slots := min(len(calls), max(1, int(sh.period/time.Millisecond)))
	slotDur := sh.period / time.Duration(slots)
	start := r.now()
	for k := 0; r.sending(); k++ {
		target := start + int64(k)*int64(slotDur)
		if d := target - r.now(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		if target >= r.winEnd.Load() {
			return
		}
		for i := k % slots; i < len(calls); i += slots {
			r.sendBurst(calls[i], ms, sh)
		}
	}
}

// sendBurst sends one burst of c with one sendmmsg (more if the kernel
// takes part of it).
func (r *run) sendBurst(c *call, ms []ipv4.Message, sh shape) {
	h := c.headroom()
	now := r.now()
	for i := range ms {
		b := ms[i].Buffers[0][:h+sh.size]
		ms[i].Buffers[0] = b
		ms[i].Addr = c.dst
		if h > 0 {
			stunproto.PutChannelDataHeader(b, c.channel, sh.size)
		}
		c.seq++
		putPayload(b[h:], c.id, c.seq, now)
	}
	sent := 0
	for sent < len(ms) {
		n, err := c.sock.batch.WriteBatch(ms[sent:], 0)
		if err != nil {
			r.errs.addN("client: write", uint64(len(ms)-sent))
			break
		}
		sent += n
	}
	r.sentAll.Add(uint64(sent))
	if r.inWindow(now) {
		r.sent.Add(uint64(sent))
	}
}

// receive reads c's echoed packets until c.stop, recording latency of the
// measured ones.
func (r *run) receive(c *call, maxPacket int) {
	defer close(c.done)
	ms := newMessages(recvBatch, maxPacket)
	bufs := make([][]byte, len(ms))
	for i := range ms {
		bufs[i] = ms[i].Buffers[0]
	}
	h := c.headroom()
	for !c.stop.Load() {
		n, err := c.sock.batch.ReadBatch(ms, 0)
		if err != nil {
			if !c.stop.Load() && !isTimeout(err) {
				r.errs.addN("client: read", 1)
			}
			continue
		}
		now := r.now()
		var measured, foreign uint64
		for i := range n {
			b := bufs[i][:ms[i].N]
			if h > 0 {
				if !stunproto.IsChannelData(b) {
					foreign++
					continue
				}
				_, p, err := stunproto.ParseChannelData(b)
				if err != nil {
					foreign++
					continue
				}
				b = p
			}
			id, _, ts, ok := parsePayload(b)
			if !ok || id != c.id {
				foreign++
				continue
			}
			if r.inWindow(ts) {
				measured++
				r.hist.Record(uint64(max(now-ts, 0)))
			}
		}
		r.recvAll.Add(uint64(n))
		r.recv.Add(measured)
		r.errs.addN("client: unexpected packet", foreign)
	}
}
