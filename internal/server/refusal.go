package server

import "github.com/pion/stun/v3"

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
	refusalCauses
)

var refusalNames = [refusalCauses]string{
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

// refusalReasons are the reason phrases of the causes whose answer does
// not use its code's standard one. While draining without a sibling of
// the client's family, an Allocate gets 508 "draining": RFC 8656 §7.2 has
// no 503, and 508 Insufficient Capacity is what a client already handles.
var refusalReasons = [refusalCauses][]byte{
	RefusedDraining: []byte("draining"),
}

// String returns the metric label of the cause.
func (c RefusalCause) String() string {
	if c >= refusalCauses {
		return "unknown"
	}
	return refusalNames[c]
}

// refuse counts a refusal for cause and answers r with code and extra
// attributes.
func (w *worker) refuse(r *request, cause RefusalCause, code stun.ErrorCode, extra ...stun.Setter) {
	w.c.refusals[cause].Add(1)
	if reason := refusalReasons[cause]; reason != nil {
		w.begin(r, stun.ClassErrorResponse)
		_ = (&stun.ErrorCodeAttribute{Code: code, Reason: reason}).AddTo(r.resp)
		for _, a := range extra {
			_ = a.AddTo(r.resp)
		}
		w.finish(r)
		return
	}
	w.fail(r, code, extra...)
}
