package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pion/webrtc/v4"
)

// errNotOpen says a data channel has not opened.
var errNotOpen = errors.New("e2e: the data channel has not opened")

// messages is how many data channel messages each side sends.
const messages = 20

// channelEnd is one end of a data channel: it sends its messages once the
// channel opens and delivers what it receives on got.
type channelEnd struct {
	name string      // the sender's name in its messages
	got  chan string // messages received, in order of arrival
	sent chan error  // the outcome of sending, once
}

// message is the i-th message that the end named from sends.
func message(from string, i int) string { return fmt.Sprintf("%s message %02d", from, i) }

// newChannelEnd wires dc: on open it sends messages, every message it
// receives goes to got.
func newChannelEnd(name string, dc *webrtc.DataChannel) *channelEnd {
	c := &channelEnd{name: name, got: make(chan string, 2*messages), sent: make(chan error, 1)}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case c.got <- string(m.Data):
		default: // twice as many as expected: expect() has failed already
		}
	})
	dc.OnOpen(func() {
		for i := range messages {
			if err := dc.SendText(message(name, i)); err != nil {
				c.sent <- err
				return
			}
		}
		c.sent <- nil
	})
	return c
}

// openDataChannel creates a data channel on offerer before the offer and
// returns its two ends; the answerer's end appears with the offer.
func openDataChannel(t *testing.T, offerer, answerer *peer) (offerEnd, answerEnd <-chan *channelEnd) {
	t.Helper()
	dc, err := offerer.pc.CreateDataChannel("e2e", nil)
	if err != nil {
		t.Fatal(err)
	}
	oc, ac := make(chan *channelEnd, 1), make(chan *channelEnd, 1)
	oc <- newChannelEnd("offerer", dc)
	answerer.pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		select {
		case ac <- newChannelEnd("answerer", dc):
		default:
		}
	})
	return oc, ac
}

// opened returns nil if the channel opened and sent its messages, or
// errNotOpen if it has not opened (yet).
func (c *channelEnd) opened() error {
	select {
	case err := <-c.sent:
		return err
	default:
		return errNotOpen
	}
}

// expect checks that c sent its messages and received, in order, every
// message of the end named from; it returns the payload bytes received.
func (c *channelEnd) expect(ctx context.Context, t *testing.T, from string) int {
	t.Helper()
	select {
	case err := <-c.sent:
		if err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
	case <-ctx.Done():
		t.Fatalf("%s: the data channel did not open: %v", c.name, context.Cause(ctx))
	}
	n := 0
	for i := range messages {
		select {
		case m := <-c.got:
			if want := message(from, i); m != want {
				t.Fatalf("%s: message %d is %q, want %q", c.name, i, m, want)
			}
			n += len(m)
		case <-ctx.Done():
			t.Fatalf("%s: got %d of %d messages: %v", c.name, i, messages, context.Cause(ctx))
		}
	}
	if extra := len(c.got); extra != 0 {
		t.Fatalf("%s: %d messages more than the %d sent", c.name, extra, messages)
	}
	return n
}
