package probe

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// TestQuota: the second allocation of a user whose quota is one gets 486,
// which names the quota.
func TestQuota(t *testing.T) {
	e := startEdge(t, edgeConfig{perUser: 1})
	r := probe(t, Options{URIs: e.uris()[:2], Credentials: credential(t, testSecret, time.Now().Add(time.Hour))})
	check(t, r, []want{
		{"allocate udp", Pass, ""},
		{"allocate tcp", Fail, "quotas.allocations_per_user"},
	})
}

func TestAllocateFailure(t *testing.T) {
	ep := Endpoint{Host: "192.0.2.1", Port: 3478, Transport: UDP}
	server := netip.MustParseAddrPort("192.0.2.1:3478")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&stunError{code: stun.CodeUnauthorized, reason: "Unauthorized", withCredentials: true}, "wrong username or password"},
		{&stunError{code: stun.CodeUnauthorized, reason: "Unauthorized"}, "without a usable challenge"},
		{&stunError{code: stun.CodeStaleNonce, reason: "Stale Nonce", withCredentials: true}, "nonce issue"},
		{&stunError{code: stun.CodeAllocMismatch}, "an allocation already exists"},
		{&stunError{code: stun.CodeWrongCredentials}, "belongs to another username"},
		{&stunError{code: stun.CodeAllocQuotaReached}, "quotas.allocations_per_user"},
		{&stunError{code: stun.CodeInsufficientCapacity}, "out of relay ports"},
		{&stunError{code: stun.CodeForbidden}, "refuses this request"},
		{&stunError{code: stun.CodeUnsupportedTransProto}, "does not relay UDP"},
		{&stunError{code: stun.CodeAddrFamilyNotSupported}, "relay.address"},
		{&stunError{code: stun.CodeBadRequest}, "not an RFC 8656 TURN server"},
		{&stunError{code: stun.CodeServerError}, "failed internally"},
		{&stunError{code: 499}, "RFC 8656 §19"},
		{ErrTimeout, "did not answer the Allocate over udp"},
		{errors.New("connection reset"), "listens on 192.0.2.1:3478"},
	} {
		detail, remedy := allocateFailure(tc.err, ep, server)
		if detail == "" || !strings.Contains(remedy, tc.want) {
			t.Errorf("%v: %q, %q; want %q", tc.err, detail, remedy, tc.want)
		}
	}
}
