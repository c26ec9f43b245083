package datapath

import (
	"context"
	"net/netip"
)

// DefaultPath is the data path of a Worker created without
// WorkerOptions.Portable on this system.
const DefaultPath = PathEpoll

// fastWorker and fastConn are the state of Linux's fast path, embedded in
// Worker and Conn.
type (
	fastWorker = epollWorker
	fastConn   = rawConn
)

// init sets up the data path opts asks for.
func (w *Worker) init(opts WorkerOptions) error {
	if opts.Portable {
		w.initPortable(opts)
		return nil
	}
	return w.initEpoll(opts)
}

// add registers c with the worker's data path.
func (w *Worker) add(c *Conn) error {
	if w.port != nil {
		return w.addPortable(c)
	}
	return w.addEpoll(c)
}

// remove deregisters c from the worker's data path.
func (w *Worker) remove(c *Conn) error {
	if w.port != nil {
		return w.removePortable(c)
	}
	return w.removeEpoll(c)
}

// loop runs the worker's data path until Close or ctx ends.
func (w *Worker) loop(ctx context.Context) error {
	if w.port != nil {
		return w.loopPortable(ctx)
	}
	return w.loopEpoll(ctx)
}

// wakeUp interrupts the loop's wait.
func (w *Worker) wakeUp() {
	if w.port != nil {
		w.wakePortable()
		return
	}
	w.wakeEpoll()
}

// release deregisters every Conn and frees what the data path holds.
func (w *Worker) release() error {
	if w.port != nil {
		return w.releasePortable()
	}
	return w.releaseEpoll()
}

// listenUDP opens the Conn of the data path cfg asks for.
func listenUDP(addr netip.AddrPort, cfg ListenConfig) (*Conn, error) {
	if cfg.Portable {
		return listenPortable(addr, cfg)
	}
	return listenRaw(addr, cfg)
}

// close closes c's socket.
func (c *Conn) close() error {
	if c.udp != nil {
		return c.closePortable()
	}
	return c.closeRaw()
}

// writeTo sends one datagram at once on c's data path.
func (c *Conn) writeTo(b []byte, to netip.AddrPort, tos uint8) error {
	if c.udp != nil {
		return c.writePortable(b, to)
	}
	return c.writeRaw(b, to, tos)
}

// queueTo queues one datagram on c's data path.
func (c *Conn) queueTo(b []byte, to netip.AddrPort, tos uint8) error {
	if c.udp != nil {
		return c.queuePortable(b, to)
	}
	return c.queueRaw(b, to, tos)
}

// control runs fn on c's socket descriptor.
func (c *Conn) control(fn func(fd uintptr) error) error {
	if c.udp != nil {
		return c.controlPortable(fn)
	}
	return fn(uintptr(c.fd))
}
