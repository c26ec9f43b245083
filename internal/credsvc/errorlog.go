package credsvc

import (
	"log"
	"log/slog"
	"strings"
)

// errorLog adapts net/http's error log to slog: each line becomes a
// warning. Failed TLS handshakes do not reach it: the Server handshakes
// itself and logs them through the refusal log (see handshakeRefused).
type errorLog struct {
	log *slog.Logger
}

// newErrorLog returns a *log.Logger for http.Server.ErrorLog writing to l.
func newErrorLog(l *slog.Logger) *log.Logger {
	return log.New(errorLog{l}, "", 0)
}

// Write logs one line of net/http's error log.
func (e errorLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	e.log.Warn("credential service: http: " + strings.TrimPrefix(line, "http: "))
	return len(p), nil
}
