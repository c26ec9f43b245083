package server

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/server/msdialect"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/stream"
	"github.com/avedge/avedge/internal/stunproto"
)

// rfcStream is how RFC TURN is framed on a stream (RFC 8656 §12.5):
// STUN and ChannelData back to back, ChannelData padded to four bytes.
var rfcStream = stream.Protocol{Framer: frameSize, Pad: channelDataPad, Dialect: stats.DialectRFC}

// channelDataPad is the padding after ChannelData on streams (RFC 8656
// §12.5: "over TCP and TLS-over-TCP, the ChannelData message MUST be padded
// to a multiple of four bytes").
func channelDataPad(b []byte) int {
	if stunproto.IsChannelData(b) {
		return stunproto.ChannelDataPadding(len(b))
	}
	return 0
}

// listenStream binds the TCP listeners of opts, each taking the protocols
// it is configured for, in the order they are told apart: the [MS-TURN]
// pseudo-TLS handshake (which opens like TLS), TLS, the dialect's framing
// in the clear, plain TURN.
func (s *Server) listenStream(opts Options) error {
	s.streamSeed = maphash.MakeSeed()
	s.streamStop = make(chan struct{})
	var listeners []stream.Listener
	for _, sl := range opts.StreamListeners {
		if !sl.Plain && sl.Certs == nil {
			return fmt.Errorf("server: listen tcp %v: neither plain TURN nor TLS", sl.Addr)
		}
		var sniffers []stream.Sniffer
		if s.env.msTurn {
			sniffers = append(sniffers, msdialect.PseudoTLS)
		}
		if sl.Certs != nil {
			sniffers = append(sniffers, stream.TLS(tlsConfig(sl.Certs, sl.TLS), rfcStream))
		}
		if s.env.msTurn && sl.Plain {
			sniffers = append(sniffers, msdialect.Framed)
		}
		if sl.Plain {
			sniffers = append(sniffers, plainTURN)
		}
		authn, err := streamAuth(&opts, sl.Tenant)
		if err != nil {
			return err
		}
		listeners = append(listeners, stream.Listener{Addr: sl.Addr, Sniffers: sniffers, Proxy: sl.Proxy, Tag: authn})
	}
	srv, err := stream.Listen(stream.Options{Listeners: listeners, SkipUnavailable: opts.SkipUnavailable,
		Limits: opts.Stream, Handler: streamHandler{s}, Log: s.env.log})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.stream = srv
	return nil
}

// plainTURN claims plain TURN over TCP: STUN (first two bits 00) or
// ChannelData on a valid channel number, 0x4000-0x4FFF (RFC 8656 §12),
// but not a TLS record on a listener without TLS.
func plainTURN(sn *stream.Sniff) (stream.Opening, stream.Verdict) {
	b, ok := sn.Peek(1)
	switch {
	case !ok:
		return stream.Opening{}, stream.Fail
	case b[0] >= 0x50 || stream.IsTLS(b):
		return stream.Opening{}, stream.Pass
	}
	p := rfcStream
	p.Transport = stats.TransportTCP
	return stream.Opening{Protocol: p, Conn: sn.Conn(), Prefix: sn.Peeked()}, stream.Claim
}

// streamWorker is the index of the worker that serves the connection of a
// client address.
func (s *Server) streamWorker(remote netip.AddrPort) uint64 {
	return maphash.Comparable(s.streamSeed, remote) % uint64(len(s.workers))
}

// StreamAddrs returns the bound TCP addresses (with the ports the kernel
// chose for port 0).
func (s *Server) StreamAddrs() []netip.AddrPort {
	if s.stream == nil {
		return nil
	}
	return s.stream.Addrs()
}

// runStream starts serving the TCP listeners.
func (s *Server) runStream() {
	if s.stream != nil {
		s.stream.Run()
	}
}

// stopStream closes the listeners and every connection, once, and waits
// for their goroutines. The workers may still run or be stopped for good.
func (s *Server) stopStream() {
	if s.stream == nil {
		return // New failed before the listeners were set up
	}
	s.streamStopOnce.Do(func() { close(s.streamStop) })
	s.stream.Stop()
}

// doer queues functions for a worker goroutine, as a *datapath.Worker
// does.
type doer interface{ Do(fn func()) error }

// doOnMaxWait bounds the pause of doOn between two tries.
const doOnMaxWait = 50 * time.Millisecond

// doOn runs fn on the goroutine of dp. When the worker's queue is full it
// waits and retries, which slows the calling connection's reader down (the
// TCP window then pushes back on the client), until cancel is closed. The
// waits double from 1 ms up to 50 ms, so that the readers of many
// connections do not poll an overloaded worker every millisecond. It
// returns false when fn was not queued.
func doOn(dp doer, fn func(), cancel <-chan struct{}) bool {
	var t *time.Timer
	for wait := time.Millisecond; ; wait = min(2*wait, doOnMaxWait) {
		err := dp.Do(fn)
		if err == nil {
			return true
		}
		if !errors.Is(err, datapath.ErrBusy) {
			return false
		}
		if t == nil {
			t = time.NewTimer(wait)
			defer t.Stop()
		} else {
			t.Reset(wait)
		}
		select {
		case <-cancel:
			return false
		case <-t.C:
		}
	}
}

// streamClosed ends the allocation of a closed client connection (RFC 8656
// §3.1: over TCP and TLS the allocation is tied to the connection). It runs
// on the worker goroutine.
func (w *worker) streamClosed(c *streamConn) {
	if s := w.lookup(c.l, c.remote()); s != nil && s.client == c.l {
		w.closeSession(s, stats.EndConnectionClosed)
	}
	// A ConnectionBind whose connection closed before the reader saw it
	// leaves its peer connection to close here (c.bound is the worker's
	// to read; when the reader did relay, this is a no-op).
	if c.bound != nil {
		c.bound.abandon()
	}
}
