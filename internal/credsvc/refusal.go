package credsvc

import "log/slog"

// Refusal is a request of a Dialect that was refused, for Handler.Refuse
// and Conn.Refuse.
type Refusal struct {
	// Peer is the client's address (host:port); Client its trusted name,
	// "" when not known yet.
	Peer, Client string
	// Method is the request's method, "" when it could not be read.
	Method string
	// Endpoint and Outcome are what the refusal is counted under.
	Endpoint Endpoint
	Outcome  Outcome
	// Status is the status answered, in the dialect's numbering.
	Status int
	// Reason says why, for the log.
	Reason string
}

// refuseRequest counts a refused request of a Dialect in c and logs it to
// l like the HTTP refusals, with its status and endpoint.
func refuseRequest(l *refusalLog, c *requestCounts, r Refusal) {
	c.add(r.Endpoint, r.Outcome)
	l.warn(r.Peer, "credential service: request refused",
		slog.Int("status", r.Status), slog.String("reason", r.Reason), slog.String("client", r.Client),
		slog.String("peer", r.Peer), slog.String("method", r.Method), slog.String("endpoint", r.Endpoint.String()))
}
