//go:build !linux

package datapath

import (
	"context"
	"net/netip"
)

// DefaultPath is the data path of every Worker on this system, which has
// no fast path.
const DefaultPath = PathPortable

// fastWorker holds nothing: this system has no fast path.
//
//lint:ignore U1000 embedded in Worker for the systems that have one
type fastWorker struct{}

// fastConn holds nothing: this system has no fast path.
//
//lint:ignore U1000 embedded in Conn for the systems that have one
type fastConn struct{}

// init sets up the portable data path, whatever opts.Portable says.
func (w *Worker) init(opts WorkerOptions) error {
	w.initPortable(opts)
	return nil
}

// add starts reading c.
func (w *Worker) add(c *Conn) error { return w.addPortable(c) }

// remove stops reading c.
func (w *Worker) remove(c *Conn) error { return w.removePortable(c) }

// loop runs the portable data path until Close or ctx ends.
func (w *Worker) loop(ctx context.Context) error { return w.loopPortable(ctx) }

// wakeUp interrupts the loop's wait.
func (w *Worker) wakeUp() { w.wakePortable() }

// release deregisters every Conn and stops their readers.
func (w *Worker) release() error { return w.releasePortable() }

// listenUDP opens a portable Conn, whatever cfg.Portable says.
func listenUDP(addr netip.AddrPort, cfg ListenConfig) (*Conn, error) {
	return listenPortable(addr, cfg)
}

// close closes c's socket.
func (c *Conn) close() error { return c.closePortable() }

// writeTo sends one datagram at once; tos is not applied.
func (c *Conn) writeTo(b []byte, to netip.AddrPort, _ uint8) error {
	return c.writePortable(b, to)
}

// queueTo queues one datagram; tos is not applied.
func (c *Conn) queueTo(b []byte, to netip.AddrPort, _ uint8) error {
	return c.queuePortable(b, to)
}

// control runs fn on c's socket descriptor.
func (c *Conn) control(fn func(fd uintptr) error) error { return c.controlPortable(fn) }
