package msdialect

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/server/stats"
)

// Listener is what a client reached the relay through: a UDP listener, or
// a client's TCP connection.
type Listener interface {
	// Addr is the relay's address of it.
	Addr() netip.AddrPort
	// Stream reports whether it is a TCP connection (framed messages).
	Stream() bool
	// Transport names the client's transport ("udp", "tcp",
	// "pseudo-tls", ...) for an external credential lookup.
	Transport() string
}

// Session is an allocation of the core, as the dialect sees it.
type Session interface {
	// Alloc is the allocation's state.
	Alloc() *allocation.Allocation
	// MS is the dialect's state of the allocation; nil for RFC TURN.
	MS() *State
	// Stream reports whether the client is on a TCP connection.
	Stream() bool
	// HasRelay reports whether the allocation has a relayed address of
	// ip's family.
	HasRelay(ip netip.Addr) bool
}

// Answerer is an answer being built that the core's refusal path words:
// Request implements it.
type Answerer interface {
	// Deny answers with the dialect's error for cause.
	Deny(cause stats.RefusalCause)
	// TryAlternate answers 300 Try Alternate naming to.
	TryAlternate(to netip.AddrPort)
}

// Core is what the dialect needs of the relay core, one per packet worker:
// every method runs on the worker's goroutine.
type Core interface {
	// Now is the worker's clock.
	Now() time.Time
	// Drop counts a packet dropped for reason r.
	Drop(r stats.DropReason)
	// Answered counts a request answered; Authenticated an
	// authentication result, AuthFailed the result an error of the
	// authenticator stands for; Refused a refusal (without answering).
	Answered()
	Authenticated(r stats.AuthResult)
	AuthFailed(err error)
	Refused(c stats.RefusalCause)
	// Fresh starts a request from the 5-tuple (from, l) with transaction
	// id: an unsigned one over its source's limit is dropped, a
	// retransmission answered from the cache; it reports whether the
	// request is to be handled. Remember caches the answer of a request.
	Fresh(l Listener, from netip.AddrPort, signed bool, id [16]byte, now time.Time) bool
	Remember(l Listener, from netip.AddrPort, id [16]byte, answer []byte, now time.Time)
	// TakeLimit applies a new unauthenticated-request limit, if one is
	// waiting; OverLimit takes a token of from's limit for a signed
	// request about to be refused, and reports whether it is over.
	TakeLimit()
	OverLimit(l Listener, from netip.AddrPort) bool
	// Reply sends an answer to the client.
	Reply(l Listener, to netip.AddrPort, b []byte)
	// Auth is the authenticator of the requests that reach l (the
	// relay's, or that of the tenant l is bound to); PeerAllowed the peer
	// policy (with the additions of s's tenant) and the rules on the
	// edge's own addresses and peer ports.
	Auth(l Listener) *auth.Authenticator
	PeerAllowed(s Session, peer netip.AddrPort) bool
	// Lifetime is the lifetime granted for a request of d (present: the
	// client asked), within the configured bounds; MaxLifetime the
	// longest.
	Lifetime(d time.Duration, present bool) time.Duration
	MaxLifetime() time.Duration
	// KeepUntil is the latest an allocation made at now by a request
	// that authenticated as res may live: its maximum age, and with
	// strict expiry the credential's expiry.
	KeepUntil(res auth.Result, now time.Time) time.Time
	// Offers reports whether the relay hands out relayed addresses of
	// the family of ipv6 (false: IPv4).
	Offers(ipv6 bool) bool
	// Advertise is the address peers reach relayed address addr at (a
	// 1:1 NAT's public address).
	Advertise(addr netip.AddrPort) netip.AddrPort
	// Allocate makes an allocation of the client 5-tuple (from, l) for
	// the credential res authenticated, counted against its owner's
	// quotas, with one relayed address of the family of ipv6 and state
	// ms, for lifetime from now: nil and the cause of the refusal when it
	// cannot. The clock is the request's throughout (now). UnlessExpired returns s, or nil when
	// its allocation expired (it ends then); Close ends s for reason.
	Allocate(l Listener, from netip.AddrPort, res auth.Result, ipv6 bool, lifetime time.Duration, ms *State, now time.Time) (Session, stats.RefusalCause)
	UnlessExpired(s Session, now time.Time) Session
	Close(s Session, reason stats.EndReason)
	// InTable makes sure the allocation of s, re-armed after it expired,
	// is in the table again; false when it cannot be.
	InTable(s Session) bool
	// Refuse, RefuseFull, RedirectFront and RefuseDraining are the
	// core's refusal path (see the core's refuse and friends): it counts,
	// picks a sibling of the pool, and has a word the answer.
	Refuse(a Answerer, cause stats.RefusalCause)
	RefuseFull(a Answerer, l Listener, cause stats.RefusalCause)
	RedirectFront(a Answerer, l Listener) bool
	RefuseDraining(a Answerer, l Listener) bool
	// ToPeer relays payload from the relayed address of s to peer, within
	// the bandwidth caps at now (payload over them is dropped and
	// counted).
	ToPeer(s Session, payload []byte, peer netip.AddrPort, tos uint8, now time.Time)
	// IndicationID fills id with a new transaction ID for an indication.
	IndicationID(id *[12]byte)
	// Log is the relay's logger.
	Log() *slog.Logger
	// Await handles the message raw from (from, l) again once done is
	// closed (an external credential lookup ended: auth.Pending),
	// without blocking the worker meanwhile; false when it cannot (the
	// request is then refused as the lookup would be).
	Await(l Listener, from netip.AddrPort, raw []byte, done <-chan struct{}) bool
}
