package main

import (
	"fmt"
	"net"
	"time"
)

// holdLifetime is the lifetime a session's Refresh asks for.
const holdLifetime = 10 * time.Minute

// session holds one allocation of o.identity at o.server, with media to
// o.peer at o.rate, until a line arrives on stdin or the server ends it.
// Its events: allocated (or failed, with the error code of an error
// answer); then gone, with the error that showed the allocation ended, or
// ended once stdin has a line (the allocation deleted with Refresh 0,
// whose error it names if it failed). Over UDP the allocation counts as
// gone when, after no echo for o.stall, a Refresh gets an error answer;
// over TCP (see streamSession) when the server closes the connection.
func session(o options) error {
	stop := stdinLine()
	switch o.transport {
	case "udp":
		udpSession(o, stop)
		return nil
	case "tcp", "tcp-relay":
		return streamSession(o, stop)
	}
	return fmt.Errorf("%w: -transport %q", errUsage, o.transport)
}

// udpSession is session over UDP, with the client of calls.
func udpSession(o options, stop <-chan struct{}) {
	a, err := allocate(o, o.identity)
	if err != nil {
		emit(failure("failed", err))
		return
	}
	defer a.conn.Close()
	emit(map[string]any{"event": "allocated", "server": a.server.String(), "relayed": a.relayed.String(), "redirects": a.redirects})
	sent, received, err := a.hold(o, stop)
	ev := map[string]any{"server": a.server.String(), "relayed": a.relayed.String(), "sent": sent, "received": received}
	if err != nil {
		for k, v := range failure("gone", err) {
			ev[k] = v
		}
		emit(ev)
		return
	}
	ev["event"] = "ended"
	if err := a.refresh(0); err != nil {
		ev["error"] = err.Error()
	}
	emit(ev)
}

// hold sends ChannelData at o.rate until stop closes. When no echo has
// come back for o.stall, a Refresh asks the server whether the allocation
// still lives: an error (an error answer, or none) ends hold with it.
func (a *alloc) hold(o options, stop <-chan struct{}) (sent, received int, err error) {
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	pkt := channelData()
	to := net.UDPAddrFromAddrPort(a.server)
	lastEcho := time.Now()
	for {
		select {
		case <-stop:
			return sent, received, nil
		case <-a.data:
			received++
			lastEcho = time.Now()
			continue
		case <-tick.C:
		}
		if _, err := a.conn.WriteToUDP(pkt, to); err == nil {
			sent++
		}
		if time.Since(lastEcho) > o.stall {
			if err := a.refresh(holdLifetime); err != nil {
				return sent, received, err
			}
			lastEcho = time.Now()
		}
	}
}

// allocateOnce makes one allocation of o.identity at o.server: the event
// allocated (the allocation deleted at once with Refresh 0, whose error it
// names if it failed), or failed with the error code of an error answer.
func allocateOnce(o options) error {
	a, err := allocate(o, o.identity)
	if err != nil {
		emit(failure("failed", err))
		return nil
	}
	defer a.conn.Close()
	ev := map[string]any{"event": "allocated", "server": a.server.String(), "relayed": a.relayed.String(), "redirects": a.redirects}
	if err := a.refresh(0); err != nil {
		ev["error"] = err.Error()
	}
	emit(ev)
	return nil
}
