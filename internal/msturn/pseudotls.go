package msturn

import "bytes"

// The pseudo-TLS handshake of [MS-TURN] §2.1.1: on TCP port 443 a client
// may open with a fixed TLS 1.0 ClientHello offering only
// TLS_DH_anon_WITH_RC4_128_MD5, to which the server answers ServerHello
// and ServerHelloDone in one record. Nothing is encrypted afterwards: the
// connection carries framed TURN (framing.go). The handshake only gets
// the connection through proxies and firewalls that admit nothing but
// TLS on 443.

// ClientHelloSize is the size of the pseudo-TLS ClientHello: a 5-byte
// record header and a 45-byte handshake message.
const ClientHelloSize = 50

// clientHelloHead is everything of the ClientHello before its random:
// record (handshake, TLS 1.0, 45 bytes), ClientHello of 41 bytes,
// client_version TLS 1.0. The 32-byte random follows.
var clientHelloHead = []byte{0x16, 0x03, 0x01, 0x00, 0x2d, 0x01, 0x00, 0x00, 0x29, 0x03, 0x01}

// clientHelloTail follows the random: an empty session ID, one cipher
// suite (0x0018, TLS_DH_anon_WITH_RC4_128_MD5) and the null compression
// method.
var clientHelloTail = []byte{0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00}

// ClientHelloPrefixSize is how many bytes tell a pseudo-TLS ClientHello
// from a real one: its record header, whose length (45 bytes) no client
// of real TLS 1.2 or later sends.
const ClientHelloPrefixSize = 5

// IsClientHelloPrefix reports whether b, the first ClientHelloPrefixSize
// bytes of a connection, opens a pseudo-TLS ClientHello.
func IsClientHelloPrefix(b []byte) bool {
	return len(b) >= ClientHelloPrefixSize && bytes.Equal(b[:ClientHelloPrefixSize], clientHelloHead[:ClientHelloPrefixSize])
}

// IsClientHello reports whether b is a whole pseudo-TLS ClientHello; the
// random is not checked (clients send a constant, but nothing depends on
// it).
func IsClientHello(b []byte) bool {
	return len(b) == ClientHelloSize && bytes.Equal(b[:len(clientHelloHead)], clientHelloHead) &&
		bytes.Equal(b[ClientHelloSize-len(clientHelloTail):], clientHelloTail)
}

// ServerHelloSize is the size of the answer: one record holding
// ServerHello and ServerHelloDone.
const ServerHelloSize = 83

// PutServerHello writes the pseudo-TLS answer into b[:ServerHelloSize]:
// a handshake record (TLS 1.0, 78 bytes) with ServerHello (server_version
// TLS 1.0, the 32-byte random, a 32-byte session ID sessionID, cipher
// suite 0x0018, null compression) and an empty ServerHelloDone. Clients
// ignore the random and the session ID.
func PutServerHello(b []byte, random, sessionID *[32]byte) {
	_ = b[ServerHelloSize-1]
	copy(b, []byte{0x16, 0x03, 0x01, 0x00, 0x4e, 0x02, 0x00, 0x00, 0x46, 0x03, 0x01})
	copy(b[11:43], random[:])
	b[43] = 32
	copy(b[44:76], sessionID[:])
	copy(b[76:], []byte{0x00, 0x18, 0x00, 0x0e, 0x00, 0x00, 0x00})
}
