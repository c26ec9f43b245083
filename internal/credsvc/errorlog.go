package credsvc

import (
	"log"
	"log/slog"
	"strings"
)

// handshakePrefix starts net/http's log line for a failed TLS handshake:
// "http: TLS handshake error from <peer>: <reason>".
const handshakePrefix = "http: TLS handshake error from "

// errorLog adapts net/http's error log to slog: failed handshakes (no,
// untrusted or expired client certificate, unsupported TLS version, ...)
// become warnings with the peer and the reason; other lines are logged as
// they come. Refused handshakes go through the refusal log, at most one
// line a minute per peer IP.
type errorLog struct {
	log     *slog.Logger
	refusal *refusalLog
}

// newErrorLog returns a *log.Logger for http.Server.ErrorLog writing to l,
// refused handshakes to refusal.
func newErrorLog(l *slog.Logger, refusal *refusalLog) *log.Logger {
	return log.New(errorLog{l, refusal}, "", 0)
}

// Write logs one line of net/http's error log.
func (e errorLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if rest, ok := strings.CutPrefix(line, handshakePrefix); ok {
		// The peer is host:port; IPv6 hosts are bracketed, so the first
		// ": " ends it.
		if peer, reason, ok := strings.Cut(rest, ": "); ok {
			e.refusal.warn(peer, "credential service: TLS handshake refused", slog.String("peer", peer), slog.String("reason", reason))
			return len(p), nil
		}
	}
	e.log.Warn("credential service: http: " + strings.TrimPrefix(line, "http: "))
	return len(p), nil
}
