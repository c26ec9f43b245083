package auth

import (
	"crypto/hmac"
	"hash"
	"sync"
)

// macPool reuses HMAC states of one hash and key. sync.Pool keeps a cache
// per P, so workers on different cores do not contend for it.
type macPool struct{ p *sync.Pool }

// newMACPool returns a pool of HMACs of h keyed with key, which the caller
// must not modify afterwards.
func newMACPool(h func() hash.Hash, key []byte) macPool {
	return macPool{&sync.Pool{New: func() any { return hmac.New(h, key) }}}
}

// get returns a reset HMAC; put it back when done.
func (m macPool) get() hash.Hash {
	h := m.p.Get().(hash.Hash)
	h.Reset()
	return h
}

// put returns h to the pool.
func (m macPool) put(h hash.Hash) { m.p.Put(h) }
