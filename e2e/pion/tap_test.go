package pion

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/avedge/avedge/internal/stunproto"
	"github.com/pion/stun/v3"
)

// udpTap is a client's UDP socket that counts the ChannelData datagrams it
// sends and receives.
type udpTap struct {
	net.PacketConn
	sentChannelData, receivedChannelData atomic.Int64
}

// WriteTo sends b, counting it when it is ChannelData.
func (c *udpTap) WriteTo(b []byte, addr net.Addr) (int, error) {
	if stunproto.IsChannelData(b) {
		c.sentChannelData.Add(1)
	}
	return c.PacketConn.WriteTo(b, addr)
}

// ReadFrom receives a datagram, counting it when it is ChannelData.
func (c *udpTap) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil && stunproto.IsChannelData(b[:n]) {
		c.receivedChannelData.Add(1)
	}
	return n, addr, err
}

// streamTap is a client's TCP or TLS connection that keeps a copy of the
// bytes it sends and receives.
type streamTap struct {
	net.Conn
	mu             sync.Mutex
	sent, received []byte
}

// Read reads from the connection and keeps what it read.
func (c *streamTap) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.received = append(c.received, b[:n]...)
	c.mu.Unlock()
	return n, err
}

// Write writes to the connection and keeps what it wrote.
func (c *streamTap) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	c.sent = append(c.sent, b[:n]...)
	c.mu.Unlock()
	return n, err
}

// frames returns the frames sent and received so far.
func (c *streamTap) frames(t *testing.T) (sent, received []frame) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	return parseFrames(t, "sent", c.sent), parseFrames(t, "received", c.received)
}

// frame is one message of a TURN stream.
type frame struct {
	channelData bool
	length      int // the length field: of the payload, without padding
}

// channelDataLengths counts the distinct payload lengths of the ChannelData
// messages among fs.
func channelDataLengths(fs []frame) int {
	lengths := map[int]bool{}
	for _, f := range fs {
		if f.channelData {
			lengths[f.length] = true
		}
	}
	return len(lengths)
}

// parseFrames splits a TCP or TLS stream of TURN into STUN messages and
// ChannelData messages padded to a multiple of four bytes (RFC 8656 §12.5),
// failing the test when the stream falls out of step; a message cut short
// at the end is left out.
func parseFrames(t *testing.T, dir string, b []byte) []frame {
	t.Helper()
	var fs []frame
	for len(b) >= 4 {
		length := int(binary.BigEndian.Uint16(b[2:4]))
		f := frame{channelData: stunproto.IsChannelData(b), length: length}
		size := 4 + length + stunproto.ChannelDataPadding(length)
		if !f.channelData {
			if b[0]&0xC0 != 0 || length%4 != 0 || len(b) >= 20 && !stun.IsMessage(b) {
				t.Fatalf("%s stream out of step after %d messages: % x", dir, len(fs), b[:min(len(b), 20)])
			}
			size = 20 + length
		}
		if len(b) < size {
			break
		}
		fs = append(fs, f)
		b = b[size:]
	}
	return fs
}
