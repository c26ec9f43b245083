package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/stunproto"
)

// initialRTO is the first retransmission timeout over UDP: RFC 8489
// §6.2.1 recommends 500 ms, doubled after each retransmission.
const initialRTO = 500 * time.Millisecond

// turnClient is the probe's TURN client: one transport, one 5-tuple, the
// realm and nonce the edge gave it. Not safe for concurrent use.
type turnClient struct {
	tr      transport
	clk     clock.Clock
	timeout time.Duration
	user    string
	pass    string
	realm   string
	nonce   string
	key     stun.MessageIntegrity
	// from is where the last answer came from.
	from netip.AddrPort
}

func newTurnClient(tr transport, clk clock.Clock, timeout time.Duration) *turnClient {
	return &turnClient{tr: tr, clk: clk, timeout: timeout}
}

// transact sends req and returns the answer with its transaction ID,
// waiting at most the client's timeout. Over UDP it retransmits with a
// doubling RTO (RFC 8489 §6.2.1); over TCP and TLS it sends once (§6.2.2).
// Other messages that arrive meanwhile are dropped. An error response is
// returned as a *stunError.
func (c *turnClient) transact(req *stun.Message) (*stun.Message, error) {
	deadline := c.clk.Now().Add(c.timeout)
	rto := initialRTO
	for {
		if err := c.tr.send(req.Raw); err != nil {
			return nil, fmt.Errorf("probe: send: %w", err)
		}
		wait := deadline
		if !c.tr.reliable() {
			wait = minTime(deadline, c.clk.Now().Add(rto))
			rto *= 2
		}
		res, err := c.await(req.TransactionID, wait)
		switch {
		case err == nil:
			if res.Type.Class == stun.ClassErrorResponse {
				return res, errorFrom(res, c.key != nil && hasIntegrity(req))
			}
			return res, nil
		case !isTimeout(err):
			return nil, err
		case !c.clk.Now().Before(deadline):
			return nil, fmt.Errorf("%w after %v", ErrTimeout, c.timeout)
		}
	}
}

// await reads until the answer to txid arrives or deadline passes.
func (c *turnClient) await(txid [stun.TransactionIDSize]byte, deadline time.Time) (*stun.Message, error) {
	for {
		b, from, err := c.tr.recv(deadline)
		if err != nil {
			return nil, err
		}
		m := new(stun.Message)
		m.Raw = append([]byte(nil), b...)
		if m.Decode() != nil || m.TransactionID != txid || m.Type.Class == stun.ClassRequest || m.Type.Class == stun.ClassIndication {
			continue // stray data, or an answer to an earlier retransmission
		}
		c.from = from
		return m, nil
	}
}

// hasIntegrity reports whether m carries MESSAGE-INTEGRITY.
func hasIntegrity(m *stun.Message) bool {
	_, err := m.Get(stun.AttrMessageIntegrity)
	return err == nil
}

// request sends an authenticated request with the long-term credential
// mechanism (RFC 8489 §9.2): without a nonce it first sends the request
// bare and takes REALM and NONCE from the 401 (§9.2.3, §9.2.4); then the
// request carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY, and a 438
// (Stale Nonce) is retried once with the new nonce. The MESSAGE-INTEGRITY
// of a success answer is checked. open reports whether the edge granted
// the bare request.
func (c *turnClient) request(method stun.Method, attrs ...stun.Setter) (res *stun.Message, open bool, err error) {
	staleRetried := false
	for {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		if c.key != nil {
			setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce), c.key)
		}
		req, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			return nil, false, fmt.Errorf("probe: build %v: %w", method, err)
		}
		res, err := c.transact(req)
		var se *stunError
		switch {
		case err == nil && c.key == nil:
			return res, true, nil
		case err == nil:
			if err := c.key.Check(res); err != nil {
				return nil, false, fmt.Errorf("%w: the %v answer's MESSAGE-INTEGRITY does not verify with this password", ErrProtocol, method)
			}
			return res, false, nil
		case !errors.As(err, &se):
			return nil, false, err
		case se.code == stun.CodeUnauthorized && c.key == nil,
			se.code == stun.CodeStaleNonce && c.key != nil && !staleRetried:
			staleRetried = staleRetried || se.code == stun.CodeStaleNonce
			if err := c.learn(res); err != nil {
				return nil, false, err
			}
		default:
			return res, false, err
		}
	}
}

// learn takes REALM and NONCE from a 401 or 438 (RFC 8489 §9.2.4) and
// derives the long-term key from the realm.
func (c *turnClient) learn(res *stun.Message) error {
	var realm stun.Realm
	var nonce stun.Nonce
	if realm.GetFrom(res) != nil || nonce.GetFrom(res) != nil {
		return fmt.Errorf("%w: challenge without REALM and NONCE", ErrProtocol)
	}
	c.realm, c.nonce = realm.String(), nonce.String()
	c.key = stun.NewLongTermIntegrity(c.user, c.realm, c.pass)
	return nil
}

// send sends a Send indication carrying payload to peer (RFC 8656 §11.1).
func (c *turnClient) send(peer netip.AddrPort, payload []byte) error {
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		stunproto.XORPeerAddress{Addr: peer}, stunproto.Data(payload), stun.Fingerprint)
	if err != nil {
		return fmt.Errorf("probe: build Send: %w", err)
	}
	if err := c.tr.send(m.Raw); err != nil {
		return fmt.Errorf("probe: send: %w", err)
	}
	return nil
}

// receive returns the peer and payload of the next Data indication (RFC
// 8656 §11.4) that arrives before deadline.
func (c *turnClient) receive(deadline time.Time) (netip.AddrPort, []byte, error) {
	for {
		b, _, err := c.tr.recv(deadline)
		if err != nil {
			return netip.AddrPort{}, nil, err
		}
		m := new(stun.Message)
		m.Raw = append([]byte(nil), b...)
		if m.Decode() != nil || m.Type != stun.NewType(stun.MethodData, stun.ClassIndication) {
			continue
		}
		var peer stunproto.XORPeerAddress
		var data stunproto.Data
		if peer.GetFrom(m) != nil || data.GetFrom(m) != nil {
			continue
		}
		return peer.Addr, data, nil
	}
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
