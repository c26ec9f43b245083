package msdialect

import (
	"crypto/rand"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
)

// responseRoom is the room for one answer: the largest is an Allocate
// success (header, cookie, two IPv6 addresses, lifetime, sequence number,
// version and an HMAC-SHA256 integrity: about 180 bytes) or a 401 with
// realm and nonce, behind a frame header.
const responseRoom = 512

// Handler handles the dialect for one packet worker of the core, on its
// goroutine; it holds the worker's scratch for the dialect, so that
// nothing is allocated per packet.
type Handler struct {
	core Core
	// NewConnID fills the MS-SEQUENCE-NUMBER connection ID of a new
	// allocation: random unless a test fixes it.
	NewConnID func(id *[msturn.ConnIDSize]byte)

	msg     msturn.Message
	b       msturn.Builder
	out     []byte
	unknown []msturn.AttrType
	req     request
	// indicationID is the transaction ID of the Data Indication being
	// built (its last four bytes stay zero).
	indicationID msturn.TxID
}

// NewHandler returns the dialect's handler for a worker of core.
func NewHandler(core Core) *Handler {
	return &Handler{
		core:      core,
		NewConnID: func(id *[msturn.ConnIDSize]byte) { _, _ = rand.Read(id[:]) }, // never fails (crypto/rand)
		out:       make([]byte, 0, responseRoom),
	}
}

// request is one [MS-TURN] request from a client.
type request struct {
	h *Handler
	// s is the session of the client's 5-tuple when the request arrived
	// (nil: none), of either dialect.
	s    Session
	l    Listener
	from netip.AddrPort
	m    *msturn.Message
	now  time.Time
	tos  uint8
	// integ signs the answers once the request has authenticated (nil
	// before: unsigned).
	integ *msturn.Integrity
	// out is the last answer sent, for the answer cache.
	out []byte
}

// Message handles a message of the dialect (the first attribute is
// MAGIC-COOKIE, msturn.Is) from a client: Allocate (which also refreshes
// and deallocates), Send and Set Active Destination. Anything else a
// client sends in the dialect (responses, indications) is dropped. s is
// the session of the client's 5-tuple (nil: none), of either dialect.
func (h *Handler) Message(l Listener, from netip.AddrPort, b []byte, tos uint8, s Session) {
	m := &h.msg
	if m.Decode(b) != nil {
		h.core.Drop(stats.DropMalformed)
		return
	}
	q := &h.req // the worker's: an Answerer would escape to the heap
	*q = request{h: h, s: s, l: l, from: from, m: m, now: h.core.Now(), tos: tos}
	switch m.Type {
	case msturn.AllocateRequest:
		// The one request of the dialect that may come unauthenticated:
		// it is subject to the limit in force.
		h.core.TakeLimit()
		h.allocate(q)
	case msturn.SendRequest:
		h.send(q)
	case msturn.SetActiveDestination:
		h.setActive(q)
	default:
		h.core.Drop(stats.DropUnexpected)
	}
}

// errorType is the error response type of q's request.
func (q *request) errorType() msturn.Type {
	if q.m.Type == msturn.SetActiveDestination {
		return msturn.SetActiveDestError
	}
	return msturn.AllocateError
}

// begin starts the answer to q of type t in the worker's response
// buffer, behind a frame header for a TCP client.
func (h *Handler) begin(q *request, t msturn.Type) *msturn.Builder {
	dst := h.out[:0]
	if q.l.Stream() {
		dst = dst[:msturn.FrameHeaderSize]
	}
	h.b.Start(dst, t, q.m.TxID)
	return &h.b
}

// finish signs the answer with integ (nil: unsigned), frames it for a TCP
// client and returns its bytes, or nil when it did not fit.
func (h *Handler) finish(q *request, integ *msturn.Integrity) []byte {
	if integ != nil {
		h.b.Sign(integ)
	}
	if err := h.b.Err(); err != nil {
		h.core.Log().Error("building an MS-TURN response", "err", err)
		return nil
	}
	b := h.b.Bytes()
	if q.l.Stream() {
		msturn.PutFrameHeader(b, msturn.FrameControl, len(b)-msturn.FrameHeaderSize)
	}
	return b
}

// answer sends an answer finish built.
func (h *Handler) answer(q *request, b []byte) {
	if b == nil {
		return
	}
	h.core.Answered()
	q.out = b
	h.core.Reply(q.l, q.from, b)
}

// fail answers q with an error response of type t carrying code and
// reason, signed with integ when the request authenticated (nil
// otherwise), and returns the bytes sent.
func (h *Handler) fail(q *request, t msturn.Type, code int, reason string, integ *msturn.Integrity) []byte {
	b := h.begin(q, t)
	b.AddErrorCode(code, reason)
	out := h.finish(q, integ)
	h.answer(q, out)
	return out
}

// refusals are the error codes and reason phrases of [MS-TURN] for each
// refusal cause (§2.2.2.9): 403, 486 for the quotas, 508 for the rest.
var refusals = [stats.NumRefusalCauses]struct {
	code   int
	reason string
}{
	stats.RefusedPeerDenied:          {msturn.CodeForbidden, "Forbidden"},
	stats.RefusedUserQuota:           {msturn.CodeAllocationQuota, "Allocation Quota Reached"},
	stats.RefusedPortsPerUser:        {msturn.CodeAllocationQuota, "Allocation Quota Reached"},
	stats.RefusedAllocationsTotal:    {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedBandwidthCapacity:   {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedNoRelayPort:         {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedReservation:         {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedPermissionsLimit:    {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedChannelsLimit:       {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedTCPConnectionsLimit: {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedDraining:            {msturn.CodeInsufficientCap, "Insufficient Capacity"},
	stats.RefusedRedirected:          {msturn.CodeTryAlternate, "Try Alternate"},
}

// Deny implements Answerer: the error of q's request type for cause,
// signed with q.integ when the request authenticated.
func (q *request) Deny(cause stats.RefusalCause) {
	e := refusals[cause]
	q.h.fail(q, q.errorType(), e.code, e.reason, q.integ)
}

// TryAlternate implements Answerer: ALTERNATE-SERVER is a plain address
// (§2.2.2.7).
func (q *request) TryAlternate(to netip.AddrPort) {
	h := q.h
	b := h.begin(q, msturn.AllocateError)
	b.AddErrorCode(msturn.CodeTryAlternate, "Try Alternate")
	b.AddAddress(msturn.AttrAlternateServer, to)
	h.answer(q, h.finish(q, q.integ))
}

// overLimit is the core's OverLimit for a request about to be refused
// before it authenticated: over its UDP source's limit it is dropped
// (counted).
func (h *Handler) overLimit(q *request) bool {
	if !h.core.OverLimit(q.l, q.from) {
		return false
	}
	h.core.Drop(stats.DropRateLimited)
	return true
}

// version is the MS-VERSION the edge answers a request with: the
// client's (1 when it sends none, [MS-TURN] §2.2.2.17), at most
// maxVersion.
func version(m *msturn.Message) uint32 {
	v, err := m.Uint32(msturn.AttrMSVersion)
	if err != nil || v == 0 {
		return 1
	}
	return min(v, maxVersion)
}
