// Package netx is the listener hygiene shared by avedge's TCP listeners,
// the relay's stream listeners and the credential service:
//
//   - Limiter bounds the open connections in all and per source (an IPv4
//     address or an IPv6 /64: Source), counting refusals by cause. An
//     accept loop asks it with Admit; Listener wraps a net.Listener with
//     it.
//   - Tracker keeps the live connections of a server, closes them on
//     shutdown (the idle ones at once, the others when a grace period
//     ends) and waits for them.
//   - PrefixConn replays bytes read from a connection to sniff its
//     protocol before reading on, for the server of that protocol.
//
// It knows no protocol and logs nothing: refusals reach the caller as
// errors or through a hook.
package netx
