// Package turntest is a raw TURN client for tests: it builds its messages
// with pion/stun, answers the 401 and 438 challenges of RFC 8489 §9.2.3,
// and allocates, permits and relays over UDP, TCP or TLS to the server
// under test. It also has the peers and checks of relay tests: a TCP peer
// that accepts (and may echo) the relay's connections, and checks that
// bytes cross a connection and that the other end closes it. Like
// net/http/httptest, it is imported only by tests.
package turntest

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// Timeout bounds every read of a Client and every wait of the peers and
// checks.
const Timeout = 5 * time.Second

// Client is a TURN client over one connection. Its methods fail the test on
// I/O errors and malformed answers, and return the ERROR-CODE of an error
// response (0 for a success response).
type Client struct {
	tb     testing.TB
	conn   net.Conn
	stream bool // TCP or TLS: messages are read by their length

	// User and Password are the long-term credential of the requests;
	// a test may change them between requests.
	User, Password string
	// Realm is the realm of the requests. When set before the first
	// challenge, the challenge must carry this realm; otherwise it is
	// taken from the challenge.
	Realm string
	nonce string
}

// New returns a client on conn with credential user and password; conn
// is closed when the test ends. A conn that is a net.PacketConn (UDP)
// carries one message per datagram, any other conn (TCP, TLS) a stream of
// messages.
func New(tb testing.TB, conn net.Conn, user, password string) *Client {
	tb.Helper()
	tb.Cleanup(func() { conn.Close() })
	_, packets := conn.(net.PacketConn)
	return &Client{tb: tb, conn: conn, stream: !packets, User: user, Password: password}
}

// DialUDP returns a client of the server at addr over UDP from an
// ephemeral port of 127.0.0.1.
func DialUDP(tb testing.TB, addr netip.AddrPort, user, password string) *Client {
	tb.Helper()
	conn, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")), net.UDPAddrFromAddrPort(addr))
	if err != nil {
		tb.Fatal(err)
	}
	return New(tb, conn, user, password)
}

// LocalAddr is the client's address.
func (c *Client) LocalAddr() netip.AddrPort {
	return netip.MustParseAddrPort(c.conn.LocalAddr().String())
}

// Write sends m.
func (c *Client) Write(m *stun.Message) {
	c.tb.Helper()
	if _, err := c.conn.Write(m.Raw); err != nil {
		c.tb.Fatalf("send %v: %v", m.Type, err)
	}
}

// Read returns the next STUN message from the server.
func (c *Client) Read() *stun.Message {
	c.tb.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(Timeout))
	var b []byte
	if c.stream {
		b = make([]byte, stunproto.HeaderSize)
		if _, err := io.ReadFull(c.conn, b); err != nil {
			c.tb.Fatalf("read: %v", err)
		}
		b = append(b, make([]byte, binary.BigEndian.Uint16(b[2:4]))...)
		if _, err := io.ReadFull(c.conn, b[stunproto.HeaderSize:]); err != nil {
			c.tb.Fatalf("read: %v", err)
		}
	} else {
		b = make([]byte, 1500)
		n, err := c.conn.Read(b)
		if err != nil {
			c.tb.Fatalf("read: %v", err)
		}
		b = b[:n]
	}
	m := new(stun.Message)
	if err := stun.Decode(b, m); err != nil {
		c.tb.Fatalf("decode: %v", err)
	}
	return m
}

// roundTrip sends m and returns the answer with its transaction ID.
func (c *Client) roundTrip(m *stun.Message) *stun.Message {
	c.tb.Helper()
	c.Write(m)
	for {
		if r := c.Read(); r.TransactionID == m.TransactionID {
			return r
		}
	}
}

// Code returns the ERROR-CODE of the response m, 0 for a success
// response; the test fails for an error response without one.
func (c *Client) Code(m *stun.Message) stun.ErrorCode {
	c.tb.Helper()
	if m.Type.Class == stun.ClassSuccessResponse {
		return 0
	}
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(m); err != nil {
		c.tb.Fatalf("%v without ERROR-CODE: %v", m.Type, err)
	}
	return ec.Code
}

// Request sends a request of method with attrs, authenticated once the
// server has challenged: a 401 to the first request and a 438 are answered
// with the realm and nonce they carry. It returns the final answer and its
// error code (0 for success).
func (c *Client) Request(method stun.Method, attrs ...stun.Setter) (*stun.Message, stun.ErrorCode) {
	c.tb.Helper()
	for range 3 {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		if c.nonce != "" {
			setters = append(setters, stun.NewUsername(c.User), stun.NewRealm(c.Realm), stun.NewNonce(c.nonce),
				stun.NewLongTermIntegrity(c.User, c.Realm, c.Password))
		}
		m, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			c.tb.Fatalf("build %v: %v", method, err)
		}
		r := c.roundTrip(m)
		code := c.Code(r)
		if code != stun.CodeStaleNonce && (code != stun.CodeUnauthorized || c.nonce != "") {
			return r, code
		}
		var realm stun.Realm
		var nonce stun.Nonce
		if realm.GetFrom(r) != nil || nonce.GetFrom(r) != nil {
			c.tb.Fatalf("%v: %d without REALM and NONCE", method, code)
		}
		if c.Realm != "" && realm.String() != c.Realm {
			c.tb.Fatalf("%v: realm %q, want %q", method, realm, c.Realm)
		}
		c.Realm, c.nonce = realm.String(), nonce.String()
	}
	c.tb.Fatalf("%v: challenged three times", method)
	return nil, 0
}

// Binding sends a Binding request and returns the XOR-MAPPED-ADDRESS of
// the answer.
func (c *Client) Binding() netip.AddrPort {
	c.tb.Helper()
	r := c.roundTrip(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint))
	var mapped stunproto.XORMappedAddress
	if err := mapped.GetFrom(r); err != nil {
		c.tb.Fatalf("binding: %v", err)
	}
	return mapped.Addr
}

// Allocate requests a UDP allocation and returns the relayed address
// with the error code of the answer.
func (c *Client) Allocate() (netip.AddrPort, stun.ErrorCode) {
	c.tb.Helper()
	r, code := c.Request(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
	if code != 0 {
		return netip.AddrPort{}, code
	}
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(r); err != nil {
		c.tb.Fatalf("XOR-RELAYED-ADDRESS: %v", err)
	}
	return relayed.Addr, 0
}

// CreatePermission installs a permission for peer's IP address.
func (c *Client) CreatePermission(peer netip.AddrPort) stun.ErrorCode {
	c.tb.Helper()
	_, code := c.Request(stun.MethodCreatePermission, &stunproto.XORPeerAddress{Addr: peer})
	return code
}

// Send relays data to peer in a Send indication.
func (c *Client) Send(peer netip.AddrPort, data []byte) {
	c.tb.Helper()
	c.Write(stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		&stunproto.XORPeerAddress{Addr: peer}, stunproto.Data(data), stun.Fingerprint))
}

// SendTo relays data to peer: a CreatePermission, then, if it succeeds, a
// Send indication. It returns the error code of the CreatePermission.
func (c *Client) SendTo(peer netip.AddrPort, data []byte) stun.ErrorCode {
	c.tb.Helper()
	code := c.CreatePermission(peer)
	if code == 0 {
		c.Send(peer, data)
	}
	return code
}

// Refresh refreshes the allocation for lifetime (0 deletes it).
func (c *Client) Refresh(lifetime time.Duration) stun.ErrorCode {
	c.tb.Helper()
	_, code := c.Request(stun.MethodRefresh, stunproto.Lifetime{Duration: lifetime})
	return code
}
