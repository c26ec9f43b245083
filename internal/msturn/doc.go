// Package msturn is a codec for the [MS-TURN] dialect of TURN spoken by
// Lync, Skype for Business and the clients that interoperate with them
// (libnice's OC2007R2 mode among them): messages, attributes, message
// integrity, the TCP framing and the pseudo-TLS handshake of TCP port 443.
//
// The dialect predates RFC 5389. Its 20-byte header has a 16-byte
// transaction ID and no magic cookie; instead the first attribute is
// MAGIC-COOKIE (0x000F, value 0x72C64BC6), which is how Is tells it from
// RFC STUN on a shared socket. Attributes are not padded, NONCE and REALM
// swap the RFC numbers (0x0014 and 0x0015), MAPPED-ADDRESS carries the
// relayed address and XOR-MAPPED-ADDRESS (0x8020) the reflexive one, XORed
// with the transaction ID. MESSAGE-INTEGRITY is HMAC-SHA1 keyed with
// MD5(username:realm:password) over the message up to the attribute,
// zero-padded to a multiple of 64 bytes (RFC 3489 §11.2.8), or HMAC-SHA256
// with a nonce-derived key from MS-VERSION 3 on.
//
// Decode and the Builder do not allocate; Message values alias the bytes
// they were decoded from. Getters return ErrNotFound when an attribute is
// absent and ErrMalformed when its value is broken; nothing panics on
// hostile input. The package opens no sockets.
package msturn
