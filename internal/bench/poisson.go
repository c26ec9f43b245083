package bench

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"golang.org/x/net/ipv4"
)

// sendPoisson sends sh to calls until the measuring window ends or the run
// halts, each call's bursts at independent exponentially distributed
// intervals of mean sh.period (ArrivalsPoisson), the calls taken in the
// order of their next send time.
func (r *run) sendPoisson(calls []*call, sh shape, ms []ipv4.Message) {
	mean := float64(sh.period)
	q := make(sendQueue, len(calls))
	start := r.now()
	for i, c := range calls {
		q[i] = scheduled{at: start + int64(rand.ExpFloat64()*mean), c: c}
	}
	heap.Init(&q)
	for r.sending() {
		next := &q[0]
		if next.at >= r.winEnd.Load() {
			return
		}
		if d := next.at - r.now(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		r.sendBurst(next.c, ms, sh)
		next.at += int64(rand.ExpFloat64() * mean)
		heap.Fix(&q, 0)
	}
}

// scheduled is a call's next send time, in the run's nanoseconds.
type scheduled struct {
	at int64
	c  *call
}

// sendQueue orders calls by their next send time (a container/heap).
type sendQueue []scheduled

func (q sendQueue) Len() int           { return len(q) }
func (q sendQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q sendQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }

// Push implements heap.Interface; the queue never grows after Init.
func (q *sendQueue) Push(x any) { *q = append(*q, x.(scheduled)) }

// Pop implements heap.Interface.
func (q *sendQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
