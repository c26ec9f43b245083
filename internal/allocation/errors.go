package allocation

import "errors"

// Errors returned by this package. The comments give the STUN error code a
// server is expected to answer with.
var (
	// ErrExists means the 5-tuple already has an allocation (RFC 8656 §7.2:
	// 437 Allocation Mismatch).
	ErrExists = errors.New("allocation: 5-tuple already allocated")
	// ErrNoPorts means no relay port is free (508 Insufficient Capacity).
	ErrNoPorts = errors.New("allocation: no free relay port")
	// ErrPortUnavailable means a specific port is outside the pool or not
	// free (RFC 8656 §7.2, RESERVATION-TOKEN / EVEN-PORT: 508).
	ErrPortUnavailable = errors.New("allocation: port unavailable")
	// ErrNoReservation means a RESERVATION-TOKEN names no reservation: it is
	// unknown, expired or already used (RFC 8656 §7.2 step 5: 508
	// Insufficient Capacity).
	ErrNoReservation = errors.New("allocation: no such reservation")
	// ErrTooManyReservations means the reservation table is full (RFC 8656
	// §7.2 step 8: the server cannot satisfy EVEN-PORT's R bit, 508).
	ErrTooManyReservations = errors.New("allocation: reservation table full")
	// ErrBadRange means a port pool was given an invalid range.
	ErrBadRange = errors.New("allocation: invalid port range")
	// ErrUserQuota means the user holds as many allocations as allowed
	// (486 Allocation Quota Reached).
	ErrUserQuota = errors.New("allocation: user quota reached")
	// ErrCapacity means the server holds as many allocations as allowed
	// (508 Insufficient Capacity).
	ErrCapacity = errors.New("allocation: server capacity reached")
	// ErrBadChannelNumber means a channel number is outside 0x4000-0x7FFF
	// (0x4000-0x4FFF with Config.StrictChannelNumbers)
	// (RFC 8656 §12.2: 400 Bad Request).
	ErrBadChannelNumber = errors.New("allocation: channel number out of range")
	// ErrChannelInUse means the channel number is bound, or was bound less
	// than five minutes ago, to another peer (RFC 8656 §12.2: 400).
	ErrChannelInUse = errors.New("allocation: channel number bound to another peer")
	// ErrPeerBound means the peer is bound, or was bound less than five
	// minutes ago, to another channel number (RFC 8656 §12.2: 400).
	ErrPeerBound = errors.New("allocation: peer bound to another channel")
	// ErrBadPeer means a peer address is not a valid IP address (400).
	ErrBadPeer = errors.New("allocation: invalid peer address")
	// ErrTooManyPermissions means the allocation holds Config.MaxPermissions
	// permissions (508 Insufficient Capacity).
	ErrTooManyPermissions = errors.New("allocation: too many permissions")
	// ErrTooManyChannels means the allocation holds Config.MaxChannels
	// channel bindings, counting those in their 5-minute quarantine (508).
	ErrTooManyChannels = errors.New("allocation: too many channel bindings")
)
