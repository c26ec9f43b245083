package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

var (
	// errNoAnswer reports a request the server did not answer in time.
	errNoAnswer = errors.New("helper: no answer from the TURN server")
	// errChallenge reports a request challenged more often than a client
	// retries, or a challenge without REALM and NONCE.
	errChallenge = errors.New("helper: TURN authentication failed")
	// errRefused reports an Allocate or ConnectionBind that failed.
	errRefused = errors.New("helper: TURN request refused")
	// errNoChannel reports ChannelData for a peer without a bound channel.
	errNoChannel = errors.New("helper: no channel bound for the peer")
)

// relayedData is data relayed from a peer: in a Data indication or on a
// channel.
type relayedData struct {
	from netip.AddrPort
	data string
	tos  int // the TOS byte or Traffic Class it arrived with (UDP with -tos), else -1
}

// rawClient is a TURN client over one connection (UDP, or TCP for an RFC
// 6062 allocation and its data connections) that sends exactly the
// messages it is asked to, so that each answer's error code reaches the
// test. It builds its messages with pion/stun and the attributes of
// internal/stunproto, answers the 401 and 438 challenges, and keeps the
// data relayed from peers that arrives while it waits for an answer.
type rawClient struct {
	conn                  net.Conn
	stream                bool // TCP: messages are read by their length
	user, password, realm string
	nonce                 string
	timeout               time.Duration // bounds each answer and each wait for data
	tos                   *tosSocket    // reads the TOS byte of each datagram (UDP with -tos), or nil
	frameTOS              int           // the TOS byte of the last frame read, or -1

	pending  []relayedData
	attempts []netip.AddrPort // peers of ConnectionAttempt indications
	channels map[uint16]netip.AddrPort
	bound    map[netip.AddrPort]uint16
}

// newRawClient returns a client on conn with a long-term credential.
func newRawClient(conn net.Conn, user, password, realm string, timeout time.Duration) *rawClient {
	_, packets := conn.(net.PacketConn)
	return &rawClient{
		conn: conn, stream: !packets, user: user, password: password, realm: realm, timeout: timeout,
		channels: make(map[uint16]netip.AddrPort), bound: make(map[netip.AddrPort]uint16),
	}
}

// readFrame reads the next STUN message or ChannelData frame (on TCP by
// its length, with the padding of ChannelData), waiting until deadline.
func (c *rawClient) readFrame(deadline time.Time) ([]byte, error) {
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("helper: %w", err)
	}
	c.frameTOS = -1
	if !c.stream && c.tos != nil {
		b := make([]byte, maxDatagram)
		n, _, tos, err := c.tos.read(b)
		if err != nil {
			return nil, err
		}
		c.frameTOS = tos
		return b[:n], nil
	}
	if !c.stream {
		b := make([]byte, maxDatagram)
		n, err := c.conn.Read(b)
		if err != nil {
			return nil, fmt.Errorf("helper: read: %w", err)
		}
		return b[:n], nil
	}
	b := make([]byte, stunproto.ChannelDataHeaderSize, stunproto.HeaderSize)
	if _, err := io.ReadFull(c.conn, b); err != nil {
		return nil, fmt.Errorf("helper: read: %w", err)
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if stunproto.IsChannelData(b) {
		n += stunproto.ChannelDataPadding(n)
	} else {
		n += stunproto.HeaderSize - stunproto.ChannelDataHeaderSize
	}
	b = append(b, make([]byte, n)...)
	if _, err := io.ReadFull(c.conn, b[stunproto.ChannelDataHeaderSize:]); err != nil {
		return nil, fmt.Errorf("helper: read: %w", err)
	}
	return b, nil
}

// next reads one frame, waiting until deadline: it returns a response,
// or nil after keeping relayed data (Data indications, ChannelData) in
// c.pending and the peers of ConnectionAttempt indications in c.attempts.
func (c *rawClient) next(deadline time.Time) (*stun.Message, error) {
	b, err := c.readFrame(deadline)
	if err != nil {
		return nil, err
	}
	if stunproto.IsChannelData(b) {
		num, payload, err := stunproto.ParseChannelData(b)
		if err != nil {
			return nil, fmt.Errorf("helper: %w", err)
		}
		c.pending = append(c.pending, relayedData{from: c.channels[num], data: string(payload), tos: c.frameTOS})
		return nil, nil
	}
	m := new(stun.Message)
	if err := stun.Decode(b, m); err != nil {
		return nil, fmt.Errorf("helper: %w", err)
	}
	var peer stunproto.XORPeerAddress
	switch {
	case m.Type == stun.NewType(stun.MethodData, stun.ClassIndication):
		var data stunproto.Data
		if err := peer.GetFrom(m); err != nil {
			return nil, fmt.Errorf("helper: Data indication: %w", err)
		}
		if err := data.GetFrom(m); err != nil {
			return nil, fmt.Errorf("helper: Data indication: %w", err)
		}
		c.pending = append(c.pending, relayedData{from: peer.Addr, data: string(data), tos: c.frameTOS})
	case m.Type == stun.NewType(stun.MethodConnectionAttempt, stun.ClassIndication):
		if err := peer.GetFrom(m); err != nil {
			return nil, fmt.Errorf("helper: ConnectionAttempt indication: %w", err)
		}
		c.attempts = append(c.attempts, peer.Addr)
	case m.Type.Class == stun.ClassSuccessResponse || m.Type.Class == stun.ClassErrorResponse:
		return m, nil
	}
	return nil, nil
}

// roundTrip sends m and returns the answer with its transaction ID.
func (c *rawClient) roundTrip(m *stun.Message) (*stun.Message, error) {
	if _, err := c.conn.Write(m.Raw); err != nil {
		return nil, fmt.Errorf("helper: send %v: %w", m.Type, err)
	}
	deadline := time.Now().Add(c.timeout)
	for {
		r, err := c.next(deadline)
		if err != nil {
			return nil, fmt.Errorf("%w: %v: %w", errNoAnswer, m.Type, err)
		}
		if r != nil && r.TransactionID == m.TransactionID {
			return r, nil
		}
	}
}

// code returns the ERROR-CODE of the answer r, 0 for a success.
func code(r *stun.Message) (int, error) {
	if r.Type.Class == stun.ClassSuccessResponse {
		return 0, nil
	}
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(r); err != nil {
		return 0, fmt.Errorf("helper: %v without ERROR-CODE: %w", r.Type, err)
	}
	return int(ec.Code), nil
}

// request sends a request of method with attrs, authenticated with the
// nonce of the last challenge; it answers up to two challenges (a 401
// with a new nonce, a 438) and returns the final answer and its error
// code (0 for a success).
func (c *rawClient) request(method stun.Method, attrs ...stun.Setter) (*stun.Message, int, error) {
	for range 3 {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		if c.nonce != "" {
			setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
				stun.NewLongTermIntegrity(c.user, c.realm, c.password))
		}
		m, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			return nil, 0, fmt.Errorf("helper: build %v: %w", method, err)
		}
		r, err := c.roundTrip(m)
		if err != nil {
			return nil, 0, err
		}
		ec, err := code(r)
		if err != nil {
			return nil, 0, err
		}
		var nonce stun.Nonce
		if ec != int(stun.CodeUnauthorized) && ec != int(stun.CodeStaleNonce) {
			return r, ec, nil
		}
		if err := nonce.GetFrom(r); err != nil || nonce.String() == c.nonce {
			// A 401 to a request with a valid nonce: the credential is
			// refused.
			return r, ec, nil
		}
		c.nonce = nonce.String()
	}
	return nil, 0, fmt.Errorf("%w: %v challenged three times", errChallenge, method)
}

// allocate requests an allocation relaying protocol (stunproto.ProtoUDP
// or ProtoTCP) and returns its relayed address; with family
// stunproto.FamilyIPv6 it asks for an IPv6 relayed address
// (REQUESTED-ADDRESS-FAMILY), else for the server's default.
func (c *rawClient) allocate(protocol, family uint8) (netip.AddrPort, error) {
	attrs := []stun.Setter{stunproto.RequestedTransport{Protocol: protocol}}
	if family == stunproto.FamilyIPv6 {
		attrs = append(attrs, stunproto.RequestedAddressFamily(family))
	}
	r, ec, err := c.request(stun.MethodAllocate, attrs...)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if ec != 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: Allocate: error %d", errRefused, ec)
	}
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(r); err != nil {
		return netip.AddrPort{}, fmt.Errorf("helper: XOR-RELAYED-ADDRESS: %w", err)
	}
	return relayed.Addr, nil
}

// permit sends a CreatePermission for peer and returns its error code.
func (c *rawClient) permit(peer netip.AddrPort) (int, error) {
	_, ec, err := c.request(stun.MethodCreatePermission, &stunproto.XORPeerAddress{Addr: peer})
	return ec, err
}

// bind sends a ChannelBind of the next free channel to peer and returns
// its error code; the channel is the peer's once bound.
func (c *rawClient) bind(peer netip.AddrPort) (int, error) {
	num := uint16(stunproto.MinChannel + len(c.channels))
	_, ec, err := c.request(stun.MethodChannelBind, stunproto.ChannelNumber(num), &stunproto.XORPeerAddress{Addr: peer})
	if err == nil && ec == 0 {
		c.channels[num], c.bound[peer] = peer, num
	}
	return ec, err
}

// send relays data to peer in a Send indication.
func (c *rawClient) send(peer netip.AddrPort, data string) error {
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		&stunproto.XORPeerAddress{Addr: peer}, stunproto.Data(data), stun.Fingerprint)
	if err != nil {
		return fmt.Errorf("helper: build Send: %w", err)
	}
	if _, err := c.conn.Write(m.Raw); err != nil {
		return fmt.Errorf("helper: Send: %w", err)
	}
	return nil
}

// channelData relays data to peer on its bound channel.
func (c *rawClient) channelData(peer netip.AddrPort, data string) error {
	num, ok := c.bound[peer]
	if !ok {
		return fmt.Errorf("%w: %s", errNoChannel, peer)
	}
	b := make([]byte, stunproto.ChannelDataHeaderSize+len(data)+stunproto.ChannelDataPadding(len(data)))
	stunproto.PutChannelDataHeader(b, num, len(data))
	copy(b[stunproto.ChannelDataHeaderSize:], data)
	if _, err := c.conn.Write(b); err != nil {
		return fmt.Errorf("helper: ChannelData: %w", err)
	}
	return nil
}

// receive returns the next data relayed from a peer, or false when none
// arrives within the client's timeout.
func (c *rawClient) receive() (relayedData, bool, error) {
	ok, err := c.await(func() bool { return len(c.pending) > 0 })
	if !ok {
		return relayedData{}, false, err
	}
	d := c.pending[0]
	c.pending = c.pending[1:]
	return d, true, nil
}

// attempt returns the peer of the next ConnectionAttempt indication, or
// false when none arrives within the client's timeout.
func (c *rawClient) attempt() (netip.AddrPort, bool, error) {
	ok, err := c.await(func() bool { return len(c.attempts) > 0 })
	if !ok {
		return netip.AddrPort{}, false, err
	}
	peer := c.attempts[0]
	c.attempts = c.attempts[1:]
	return peer, true, nil
}

// await reads frames until ready reports true, and reports false when the
// client's timeout passes first.
func (c *rawClient) await(ready func() bool) (bool, error) {
	deadline := time.Now().Add(c.timeout)
	for !ready() {
		if _, err := c.next(deadline); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return false, nil
			}
			return false, err
		}
	}
	return true, nil
}

// connect sends an RFC 6062 Connect to peer and returns its error code
// and, on success, the CONNECTION-ID of the peer data connection.
func (c *rawClient) connect(peer netip.AddrPort) (int, stunproto.ConnectionID, error) {
	r, ec, err := c.request(stun.MethodConnect, &stunproto.XORPeerAddress{Addr: peer})
	if err != nil || ec != 0 {
		return ec, 0, err
	}
	var id stunproto.ConnectionID
	if err := id.GetFrom(r); err != nil {
		return 0, 0, fmt.Errorf("helper: CONNECTION-ID: %w", err)
	}
	return 0, id, nil
}

// bindConnection opens a data connection to the server and binds it to
// the peer data connection id (RFC 6062 ConnectionBind); from then on the
// returned connection carries the peer's bytes.
func (c *rawClient) bindConnection(id stunproto.ConnectionID) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp4", c.conn.RemoteAddr().String(), c.timeout)
	if err != nil {
		return nil, fmt.Errorf("helper: data connection: %w", err)
	}
	dc := newRawClient(conn, c.user, c.password, c.realm, c.timeout)
	dc.nonce = c.nonce
	_, ec, err := dc.request(stun.MethodConnectionBind, id)
	if err == nil && ec != 0 {
		err = fmt.Errorf("%w: ConnectionBind: error %d", errRefused, ec)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}
