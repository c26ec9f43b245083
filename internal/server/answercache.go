package server

import (
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/allocation"
)

// answerKey identifies a request for retransmission detection: the client's
// transport address, the server address it reached, the transport protocol
// and the transaction ID: the 12 bytes of RFC STUN (zero-filled) or the 16
// of the [MS-TURN] dialect.
type answerKey struct {
	client, server netip.AddrPort
	proto          allocation.Protocol
	id             [16]byte
}

type answerEntry struct {
	key     answerKey
	resp    []byte
	expires time.Time
	used    bool
}

// answerCache remembers the responses to authenticated requests so that a
// retransmission (same 5-tuple, same transaction ID) gets the same bytes again
// without running the request twice (RFC 8489 §6.3.4 asks for this for
// non-idempotent requests such as Allocate and Refresh with lifetime 0).
//
// It is a fixed ring: the oldest entry is overwritten when the ring is full,
// so an attacker cannot grow it, and slots reuse their buffers. It is owned by
// one worker and not safe for concurrent use.
type answerCache struct {
	ttl   time.Duration
	ring  []answerEntry
	next  int
	byKey map[answerKey]int
}

func newAnswerCache(size int, ttl time.Duration) *answerCache {
	return &answerCache{ttl: ttl, ring: make([]answerEntry, size), byKey: make(map[answerKey]int, size)}
}

// get returns the cached response for k, if it has one that has not expired.
func (c *answerCache) get(k answerKey, now time.Time) ([]byte, bool) {
	i, ok := c.byKey[k]
	if !ok {
		return nil, false
	}
	e := &c.ring[i]
	if now.After(e.expires) {
		delete(c.byKey, k)
		e.used = false
		return nil, false
	}
	return e.resp, true
}

// put stores a copy of resp as the answer to k.
func (c *answerCache) put(k answerKey, resp []byte, now time.Time) {
	if i, ok := c.byKey[k]; ok {
		e := &c.ring[i]
		e.resp = append(e.resp[:0], resp...)
		e.expires = now.Add(c.ttl)
		return
	}
	e := &c.ring[c.next]
	if e.used {
		delete(c.byKey, e.key)
	}
	e.key, e.used, e.expires = k, true, now.Add(c.ttl)
	e.resp = append(e.resp[:0], resp...)
	c.byKey[k] = c.next
	c.next = (c.next + 1) % len(c.ring)
}
