package main

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/internal/auth"
)

const (
	// dialTimeout bounds connecting to the server.
	dialTimeout = 5 * time.Second
	// dataEndWait bounds how long a gone TCP relay waits for its data
	// connection to end after the control connection did.
	dataEndWait = time.Second
)

// streamSession is session over TURN over TCP with pion/turn's client,
// which speaks RFC 6062: a UDP relay (-transport tcp) whose datagrams go to
// o.peer, or a TCP relay (-transport tcp-relay) with one connection to
// o.peer (an echo -tcp). The allocation counts as gone when the server
// closes the control connection; a TCP relay's gone event also names how
// its data connection ended.
func streamSession(o options, stop <-chan struct{}) error {
	user, pass, err := auth.Issue(auth.Secret{ID: "pool", Value: []byte(o.secret)}, o.identity, time.Now().Add(time.Hour))
	if err != nil {
		return fmt.Errorf("poolclient: %w", err)
	}
	c, err := net.DialTimeout("tcp4", o.server.String(), dialTimeout)
	if err != nil {
		emit(failure("failed", err))
		return nil
	}
	ctl := &watchedConn{Conn: c, ended: make(chan struct{})}
	defer ctl.Close()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: o.server.String(), TURNServerAddr: o.server.String(), Conn: turn.NewSTUNConn(ctl),
		Username: user, Password: pass, Realm: o.realm, LoggerFactory: lf,
	})
	if err != nil {
		return fmt.Errorf("poolclient: %w", err)
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		return fmt.Errorf("poolclient: %w", err)
	}
	var r *streamRelay
	if o.transport == "tcp" {
		r, err = udpOverTCP(client, o.peer)
	} else {
		r, err = tcpRelay(client, o.peer)
	}
	if err != nil {
		emit(failure("failed", err))
		return nil
	}
	defer r.close()
	emit(map[string]any{"event": "allocated", "server": o.server.String(), "relayed": r.relayed.String()})

	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	pkt := channelData()[4:]
	sent, received := 0, 0
	ev := func(event string) map[string]any {
		return map[string]any{"event": event, "server": o.server.String(), "relayed": r.relayed.String(), "sent": sent, "received": received}
	}
	for {
		select {
		case <-stop:
			emit(ev("ended"))
			return nil
		case <-ctl.ended:
			e := ev("gone")
			e["error"] = "control connection: " + ctl.err.Error()
			if o.transport == "tcp-relay" {
				select {
				case <-r.dataEnded:
					e["error"] = fmt.Sprintf("%s; data connection: %v", e["error"], r.dataErr)
				case <-time.After(dataEndWait):
					e["error"] = fmt.Sprintf("%s; data connection: still open after %v", e["error"], dataEndWait)
				}
			}
			emit(e)
			return nil
		case <-r.echoes:
			received++
		case <-tick.C:
			if r.send(pkt) == nil {
				sent++
			}
		}
	}
}

// watchedConn is a net.Conn that reports its first failed Read: the
// server closed the connection (or the session did, when it ends).
type watchedConn struct {
	net.Conn
	once  sync.Once
	ended chan struct{} // closed on the first failed Read
	err   error         // that Read's error, set before ended closes
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.once.Do(func() {
			c.err = err
			close(c.ended)
		})
	}
	return n, err
}

// streamRelay is the relay of a streamSession.
type streamRelay struct {
	relayed net.Addr
	send    func([]byte) error
	close   func()
	// echoes gets a value per read of echoed media, until dataEnded
	// closes, with dataErr the error that ended the reads.
	echoes    chan struct{}
	dataEnded chan struct{}
	dataErr   error
}

// newStreamRelay starts reading with read until it fails.
func newStreamRelay(relayed net.Addr, send func([]byte) error, read func([]byte) error, closer func()) *streamRelay {
	r := &streamRelay{relayed: relayed, send: send, close: closer,
		echoes: make(chan struct{}, 1024), dataEnded: make(chan struct{})}
	go func() {
		buf := make([]byte, 1500)
		for {
			if err := read(buf); err != nil {
				r.dataErr = err
				close(r.dataEnded)
				return
			}
			select {
			case r.echoes <- struct{}{}:
			default:
			}
		}
	}()
	return r
}

// udpOverTCP allocates a UDP relay whose datagrams go to peer.
func udpOverTCP(client *turn.Client, peer netip.AddrPort) (*streamRelay, error) {
	pc, err := client.Allocate()
	if err != nil {
		return nil, fmt.Errorf("poolclient: Allocate over TCP: %w", err)
	}
	to := net.UDPAddrFromAddrPort(peer)
	send := func(b []byte) error {
		_, err := pc.WriteTo(b, to)
		return err
	}
	read := func(b []byte) error {
		_, _, err := pc.ReadFrom(b)
		return err
	}
	return newStreamRelay(pc.LocalAddr(), send, read, func() { pc.Close() }), nil
}

// tcpRelay allocates an RFC 6062 TCP relay and connects it to peer.
func tcpRelay(client *turn.Client, peer netip.AddrPort) (*streamRelay, error) {
	a, err := client.AllocateTCP()
	if err != nil {
		return nil, fmt.Errorf("poolclient: AllocateTCP: %w", err)
	}
	dc, err := a.Dial("tcp4", peer.String())
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("poolclient: Connect to %v: %w", peer, err)
	}
	send := func(b []byte) error {
		_, err := dc.Write(b)
		return err
	}
	read := func(b []byte) error {
		_, err := dc.Read(b)
		return err
	}
	return newStreamRelay(a.Addr(), send, read, func() {
		dc.Close()
		a.Close()
	}), nil
}
