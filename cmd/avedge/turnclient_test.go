package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// errRefused is a request of turnClient answered with an error response.
var errRefused = errors.New("refused")

// turnIOTimeout bounds each of turnClient's transactions.
const turnIOTimeout = 5 * time.Second

// turnClient is a TURN client over UDP built from pion/stun messages, with
// which the tests allocate and relay through "avedge serve" using the
// credentials its commands hand out.
type turnClient struct {
	t                 *testing.T
	conn              *net.UDPConn
	server            netip.AddrPort
	user, pass, realm string
	nonce             string
}

// newTurnClient returns a client of the edge on 127.0.0.1:udpPort with
// credentials user and password for realm, on its own socket, which is
// closed when the test ends.
func newTurnClient(t *testing.T, udpPort int, user, password, realm string) *turnClient {
	t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	server := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(udpPort))
	return &turnClient{t: t, conn: conn, server: server, user: user, pass: password, realm: realm}
}

// roundTrip sends m and returns the response with its transaction ID.
func (c *turnClient) roundTrip(m *stun.Message) (*stun.Message, error) {
	if _, err := c.conn.WriteToUDPAddrPort(m.Raw, c.server); err != nil {
		return nil, fmt.Errorf("send %v: %w", m.Type, err)
	}
	buf := make([]byte, 1500)
	_ = c.conn.SetReadDeadline(time.Now().Add(turnIOTimeout))
	for {
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return nil, fmt.Errorf("answer to %v: %w", m.Type, err)
		}
		r := new(stun.Message)
		if stun.Decode(buf[:n], r) == nil && r.TransactionID == m.TransactionID {
			return r, nil
		}
	}
}

// binding sends a Binding request and checks that the reflexive address
// is the client's own.
func (c *turnClient) binding() error {
	r, err := c.roundTrip(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint))
	if err != nil {
		return err
	}
	var mapped stunproto.XORMappedAddress
	if err := mapped.GetFrom(r); err != nil {
		return fmt.Errorf("binding: %w", err)
	}
	if local := c.conn.LocalAddr().(*net.UDPAddr).AddrPort(); mapped.Addr != local {
		return fmt.Errorf("binding: reflexive address %v, want %v", mapped.Addr, local)
	}
	return nil
}

// request sends an authenticated request, answering a 401 or 438 challenge
// with the nonce it carries, and returns the success response; an error
// response is errRefused with its code.
func (c *turnClient) request(method stun.Method, attrs ...stun.Setter) (*stun.Message, error) {
	for range 3 {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		if c.nonce != "" {
			setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
				stun.NewLongTermIntegrity(c.user, c.realm, c.pass))
		}
		m, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			return nil, fmt.Errorf("build %v: %w", method, err)
		}
		r, err := c.roundTrip(m)
		if err != nil {
			return nil, err
		}
		if r.Type.Class == stun.ClassSuccessResponse {
			return r, nil
		}
		var ec stun.ErrorCodeAttribute
		if err := ec.GetFrom(r); err != nil {
			return nil, fmt.Errorf("%v: error response without ERROR-CODE: %w", method, err)
		}
		if ec.Code != stun.CodeStaleNonce && (ec.Code != stun.CodeUnauthorized || c.nonce != "") {
			return nil, fmt.Errorf("%v: %w with %d %s", method, errRefused, ec.Code, ec.Reason)
		}
		var realm stun.Realm
		var nonce stun.Nonce
		if realm.GetFrom(r) != nil || nonce.GetFrom(r) != nil {
			return nil, fmt.Errorf("%v: %d without REALM and NONCE", method, ec.Code)
		}
		if realm.String() != c.realm {
			return nil, fmt.Errorf("%v: realm %q, want %q", method, realm, c.realm)
		}
		c.nonce = nonce.String()
	}
	return nil, fmt.Errorf("%v: challenged three times", method)
}

// allocate makes a UDP allocation.
func (c *turnClient) allocate() (*turnAllocation, error) {
	r, err := c.request(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
	if err != nil {
		return nil, err
	}
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(r); err != nil {
		return nil, fmt.Errorf("allocate: %w", err)
	}
	return &turnAllocation{c: c, relayed: relayed.Addr}, nil
}

// turnAllocation is an allocation of turnClient.
type turnAllocation struct {
	c       *turnClient
	relayed netip.AddrPort
}

// LocalAddr returns the relayed address.
func (a *turnAllocation) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(a.relayed) }

// WriteTo relays b to the peer to: a CreatePermission, then a Send
// indication.
func (a *turnAllocation) WriteTo(b []byte, to net.Addr) (int, error) {
	ua, ok := to.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("peer %v: not a UDP address", to)
	}
	peer := &stunproto.XORPeerAddress{Addr: ua.AddrPort()}
	if _, err := a.c.request(stun.MethodCreatePermission, peer); err != nil {
		return 0, err
	}
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peer, stunproto.Data(b), stun.Fingerprint)
	if err != nil {
		return 0, fmt.Errorf("build Send: %w", err)
	}
	if _, err := a.c.conn.WriteToUDPAddrPort(m.Raw, a.c.server); err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	return len(b), nil
}

// Close deletes the allocation with a Refresh of lifetime 0.
func (a *turnAllocation) Close() error {
	_, err := a.c.request(stun.MethodRefresh, stunproto.Lifetime{})
	return err
}
