// Package probe is avedge's connectivity probe: run from a client's network
// against an edge, it checks what a WebRTC or SIP client needs, in the order
// a client needs it, and says for each failure what to fix.
//
// The checks are, in order: the credential (fetched from a credential
// service when one is named), DNS, a STUN Binding over UDP (RFC 8489 §6),
// TCP reachability of the TCP and TLS ports, the TLS certificate, an
// authenticated TURN Allocate over each transport (RFC 8656 §7, the
// long-term credential mechanism of RFC 8489 §9.2), a permission and a
// round trip through the relay to a probe peer (RFC 8656 §9–§11), the
// reachability of the relay port from the peer's network, signs of NAT in
// front of the edge, and the credential's expiry against the local clock.
//
// Run performs the checks over a Network (the host's by default; tests
// swap it) and returns a Report, which WriteText and WriteJSON format
// without touching the network. The probe speaks TURN with its own small
// client (turnclient.go) over UDP and over TCP or TLS streams (RFC 8656
// §3.1, RFC 6062 framing), so that every error response maps to a precise
// remedy.
package probe
