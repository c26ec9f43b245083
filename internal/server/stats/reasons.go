package stats

// EndReason is why an allocation ended: Record.Reason and the label of
// the allocations-ended metric.
type EndReason uint8

// The reasons an allocation ends.
const (
	EndExpired          EndReason = iota // its lifetime ran out
	EndRefreshZero                       // a Refresh with LIFETIME 0 deleted it (RFC 8656 §8.2)
	EndConnectionClosed                  // its TCP or TLS client connection closed (RFC 8656 §3.1)
	EndShutdown                          // the server stopped
	EndDrainTimeout                      // a drain reached its deadline
	EndMaxAge                            // it reached the maximum allocation age
	EndOperator                          // an operator ended it
	EndRevoked                           // an operator revoked its identity
	NumEndReasons
)

var endNames = [NumEndReasons]string{
	EndExpired:          "expired",
	EndRefreshZero:      "refresh 0",
	EndConnectionClosed: "connection closed",
	EndShutdown:         "shutdown",
	EndDrainTimeout:     "drain timeout",
	EndMaxAge:           "max age",
	EndOperator:         "ended by operator",
	EndRevoked:          "revoked",
}

// String returns the reason as session records and metrics name it.
func (r EndReason) String() string { return name(endNames[:], int(r)) }

// AuthResult is the outcome of checking a request's credentials (RFC 8489
// §9.2.4), the label of the auth results metric.
type AuthResult uint8

// The outcomes of authentication. Requests dropped unanswered for their
// source's rate limit are not authenticated: they count as drops.
const (
	AuthOK                AuthResult = iota // authenticated
	AuthChallenge                           // no MESSAGE-INTEGRITY: 401 with REALM and NONCE
	AuthStaleNonce                          // a genuine nonce past its lifetime: 438
	AuthBadNonce                            // a nonce minted for another client address, or forged: 438
	AuthUnknownUser                         // a username neither static nor a valid ephemeral one, or another realm: 401
	AuthBadIntegrity                        // the HMAC does not match any password: 401
	AuthExpiredCredential                   // an ephemeral credential past its expiry: 401
	AuthExpiryTooFarAhead                   // an ephemeral credential expiring beyond the maximum lifetime: 401
	AuthBadRequest                          // USERNAME, REALM or NONCE missing, or a bid-down: 400
	AuthPastExpiry                          // authenticated on the allocation its username made, after that credential expired
	AuthRevoked                             // an identity an operator revoked: 401
	NumAuthResults
)

var authNames = [NumAuthResults]string{
	AuthOK:                "ok",
	AuthChallenge:         "challenge",
	AuthStaleNonce:        "stale_nonce",
	AuthBadNonce:          "bad_nonce",
	AuthUnknownUser:       "unknown_user",
	AuthBadIntegrity:      "bad_integrity",
	AuthExpiredCredential: "expired_credential",
	AuthExpiryTooFarAhead: "expiry_too_far_ahead",
	AuthBadRequest:        "bad_request",
	AuthPastExpiry:        "ok_past_expiry",
	AuthRevoked:           "revoked",
}

// String returns the metric label of the result.
func (r AuthResult) String() string { return name(authNames[:], int(r)) }

// RefusalCause is why the server refused a request for a policy or
// resource reason, the label of the refusals metric.
type RefusalCause uint8

// The causes of refusals, with the answer each gets.
const (
	RefusedPeerDenied          RefusalCause = iota // 403: the peer policy denies the peer address
	RefusedUserQuota                               // 486: the user's allocations are at quotas.allocations_per_user
	RefusedPortsPerUser                            // 486: the user's relay ports would exceed quotas.ports_per_user
	RefusedAllocationsTotal                        // 508: the server's allocations are at quotas.allocations_total
	RefusedBandwidthCapacity                       // 508: the relayed bandwidth is above quotas.capacity
	RefusedNoRelayPort                             // 508: no relay port could be taken and bound (pool exhausted)
	RefusedReservation                             // 508: the RESERVATION-TOKEN is unknown, used or expired
	RefusedPermissionsLimit                        // 508: the allocation's permissions are at their limit
	RefusedChannelsLimit                           // 508: the allocation's channels are at their limit
	RefusedTCPConnectionsLimit                     // 508: the TCP allocation's peer connections are at their limit
	RefusedDraining                                // 508 while draining, or 300 to a sibling (also counted as RefusedRedirected)
	RefusedRedirected                              // 300: sent to a sibling with ALTERNATE-SERVER (draining or full); also counted under the cause
	NumRefusalCauses
)

var refusalNames = [NumRefusalCauses]string{
	RefusedPeerDenied:          "peer_denied",
	RefusedUserQuota:           "user_quota",
	RefusedPortsPerUser:        "ports_per_user",
	RefusedAllocationsTotal:    "allocations_total",
	RefusedBandwidthCapacity:   "bandwidth_capacity",
	RefusedNoRelayPort:         "no_relay_port",
	RefusedReservation:         "reservation_unavailable",
	RefusedPermissionsLimit:    "permissions_limit",
	RefusedChannelsLimit:       "channels_limit",
	RefusedTCPConnectionsLimit: "tcp_connections_limit",
	RefusedDraining:            "draining",
	RefusedRedirected:          "redirected",
}

// String returns the metric label of the cause.
func (c RefusalCause) String() string { return name(refusalNames[:], int(c)) }

// DropReason names why a packet was discarded without an answer.
type DropReason uint8

// Reasons a packet is dropped silently. Every drop is counted under one.
const (
	DropMalformed      DropReason = iota // neither STUN nor ChannelData, or fails to decode
	DropBadFingerprint                   // FINGERPRINT present and wrong
	DropNoAllocation                     // ChannelData or Send from a 5-tuple with no allocation
	DropNoChannel                        // ChannelData on an unbound or expired channel
	DropNoPermission                     // peer without a permission, either direction
	DropBadIndication                    // Send indication missing attributes or unknown ones
	DropUnexpected                       // responses, unknown methods or classes sent to the server
	DropSendFailed                       // a write failed at once (DF setup, TCP relay); queued UDP sends count in DataPath
	DropClientStalled                    // a TCP/TLS client's write queue was full (slow or stalled reader)
	DropRateLimited                      // an unauthenticated request or a 401/438 answer over its source's limit
	DropBandwidth                        // relayed payload over its allocation's or user's bandwidth cap
	DropBadSequence                      // an [MS-TURN] request with another MS-SEQUENCE-NUMBER connection ID, an older number, a repeated Send, or a Set Active Destination repeating the last number in another transaction
	DropPeerDenied                       // a Send indication to the edge's own address off the relay ports, or to a port outside peers.ports
	DropBadIntegrity                     // an [MS-TURN] Send or Set Active Destination whose MESSAGE-INTEGRITY is missing or fails, or whose USERNAME is not the allocation's
	NumDropReasons
)

var dropNames = [NumDropReasons]string{
	DropMalformed:      "malformed",
	DropBadFingerprint: "bad_fingerprint",
	DropNoAllocation:   "no_allocation",
	DropNoChannel:      "no_channel",
	DropNoPermission:   "no_permission",
	DropBadIndication:  "bad_indication",
	DropUnexpected:     "unexpected",
	DropSendFailed:     "send_failed",
	DropClientStalled:  "client_stalled",
	DropRateLimited:    "rate_limited",
	DropBandwidth:      "bandwidth",
	DropBadSequence:    "bad_sequence",
	DropPeerDenied:     "peer_denied",
	DropBadIntegrity:   "bad_integrity",
}

// String returns the metric label of the reason.
func (r DropReason) String() string { return name(dropNames[:], int(r)) }
