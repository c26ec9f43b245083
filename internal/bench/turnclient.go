package bench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// rto is the retransmission timeout of a transaction and maxTries the number
// of sends, so a transaction gives up after maxTries*rto. RFC 8489 §6.2.1
// starts at 500 ms and doubles; the bench keeps it fixed and short because a
// benchmark's server is close.
const (
	rto      = 500 * time.Millisecond
	maxTries = 4
)

// credentials are long-term credentials (RFC 8489 §9.2).
type credentials struct {
	username, password string
}

// turnClient is the control side of one allocation: one socket, one
// 5-tuple, its own nonce. Not safe for concurrent use.
type turnClient struct {
	sock   *socket
	server netip.AddrPort
	srvUDP *net.UDPAddr
	cred   credentials
	realm  string
	nonce  string
	key    stun.MessageIntegrity
	buf    []byte
}

// newTurnClient opens a socket for talking to server.
func newTurnClient(server netip.AddrPort, cred credentials, realm string) (*turnClient, error) {
	s, err := listenFor(server)
	if err != nil {
		return nil, err
	}
	return &turnClient{sock: s, server: server, srvUDP: net.UDPAddrFromAddrPort(server), cred: cred,
		realm: realm, buf: make([]byte, 1500)}, nil
}

// close closes the socket.
func (c *turnClient) close() error { return c.sock.conn.Close() }

// rejection is a STUN error response.
type rejection struct {
	code   stun.ErrorCode
	reason string
}

func (r *rejection) Error() string {
	return fmt.Sprintf("%v: %d %s", ErrRejected, int(r.code), r.reason)
}

func (r *rejection) Unwrap() error { return ErrRejected }

// transact sends the request built by setters and returns the response with
// the same transaction ID, retransmitting every rto. An error response is a
// *rejection.
func (c *turnClient) transact(t stun.MessageType, setters ...stun.Setter) (*stun.Message, error) {
	req, err := stun.Build(append([]stun.Setter{stun.TransactionID, t}, setters...)...)
	if err != nil {
		return nil, fmt.Errorf("bench: build %v: %w", t, err)
	}
	for range maxTries {
		if _, err := c.sock.conn.WriteToUDP(req.Raw, c.srvUDP); err != nil {
			return nil, fmt.Errorf("bench: send %v: %w", t, err)
		}
		deadline := time.Now().Add(rto)
		if err := c.sock.conn.SetReadDeadline(deadline); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		for {
			n, _, err := c.sock.conn.ReadFromUDPAddrPort(c.buf)
			if isTimeout(err) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("bench: receive %v: %w", t, err)
			}
			res := new(stun.Message)
			res.Raw = append([]byte(nil), c.buf[:n]...)
			if res.Decode() != nil || res.TransactionID != req.TransactionID {
				continue // a stray packet, such as late ChannelData
			}
			if res.Type.Class == stun.ClassErrorResponse {
				var code stun.ErrorCodeAttribute
				if err := code.GetFrom(res); err != nil {
					return nil, fmt.Errorf("%w: error response without ERROR-CODE", ErrRejected)
				}
				return res, &rejection{code: code.Code, reason: string(code.Reason)}
			}
			return res, nil
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrTimeout, t)
}

// isTimeout reports whether err is a read deadline expiry.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// authed sends an authenticated request (RFC 8489 §9.2.3), learning the
// realm and nonce from a 401 and a new nonce from a 438 (Stale Nonce) once.
func (c *turnClient) authed(t stun.MessageType, setters ...stun.Setter) (*stun.Message, error) {
	for attempt := 0; ; attempt++ {
		s := setters
		if c.key != nil {
			s = append(append([]stun.Setter(nil), setters...), stun.NewUsername(c.cred.username),
				stun.NewRealm(c.realm), stun.NewNonce(c.nonce), c.key, stun.Fingerprint)
		}
		res, err := c.transact(t, s...)
		var rej *rejection
		if !errors.As(err, &rej) || attempt > 0 ||
			(rej.code != stun.CodeUnauthorized && rej.code != stun.CodeStaleNonce) {
			if err == nil && c.key != nil {
				if err := c.key.Check(res); err != nil {
					return nil, fmt.Errorf("bench: %v response: MESSAGE-INTEGRITY: %w", t, err)
				}
			}
			return res, err
		}
		if err := c.learn(res); err != nil {
			return nil, err
		}
	}
}

// learn takes the realm and nonce of a 401 or 438 (RFC 8489 §9.2.4).
func (c *turnClient) learn(res *stun.Message) error {
	var nonce stun.Nonce
	if err := nonce.GetFrom(res); err != nil {
		return fmt.Errorf("%w: challenge without NONCE", ErrRejected)
	}
	c.nonce = string(nonce)
	if c.realm == "" {
		var realm stun.Realm
		if err := realm.GetFrom(res); err != nil {
			return fmt.Errorf("%w: challenge without REALM", ErrRejected)
		}
		c.realm = string(realm)
	}
	c.key = stun.NewLongTermIntegrity(c.cred.username, c.realm, c.cred.password)
	return nil
}

// allocate runs the RFC 8656 §7.1 Allocate with the 401 round trip (the
// first request carries no credentials) and returns the relayed address.
func (c *turnClient) allocate() (netip.AddrPort, error) {
	c.key = nil
	res, err := c.authed(stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("allocate: %w", err)
	}
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(res); err != nil {
		return netip.AddrPort{}, fmt.Errorf("allocate: XOR-RELAYED-ADDRESS: %w", err)
	}
	return relayed.Addr, nil
}

// channelBind binds channel num to peer (RFC 8656 §11), which also installs
// a permission for the peer's IP.
func (c *turnClient) channelBind(num uint16, peer netip.AddrPort) error {
	_, err := c.authed(stun.NewType(stun.MethodChannelBind, stun.ClassRequest),
		stunproto.ChannelNumber(num), stunproto.XORPeerAddress{Addr: peer})
	if err != nil {
		return fmt.Errorf("channel bind: %w", err)
	}
	return nil
}

// refresh sends a Refresh with the given lifetime (RFC 8656 §8); 0 deletes
// the allocation.
func (c *turnClient) refresh(lifetime time.Duration) error {
	_, err := c.authed(stun.NewType(stun.MethodRefresh, stun.ClassRequest),
		stunproto.Lifetime{Duration: lifetime})
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	return nil
}
