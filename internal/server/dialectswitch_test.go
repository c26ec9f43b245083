package server

import (
	"bytes"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
)

// pseudoTLSHello is the pseudo-TLS ClientHello libnice sends
// (socket/pseudossl.c, [MS-TURN] §2.1.1).
const pseudoTLSHello = "160301002d0100002903" + "01c1fcd5a36d93dd7e0b45673fec7985fbbc3fd660c2ce8485081b8121bcaa10fb" + "00000200180100"

// TestDialectSwitch: without Options.MSTURN an [MS-TURN] Allocate is
// dropped as malformed and a pseudo-TLS ClientHello is taken for real TLS,
// whose handshake fails; by default the first gets the dialect's 401 and
// the second the ServerHello.
func TestDialectSwitch(t *testing.T) {
	hello, err := hex.DecodeString(pseudoTLSHello)
	if err != nil || !msturn.IsClientHello(hello) {
		t.Fatal("bad test vector", err)
	}
	for _, disabled := range []bool{false, true} {
		se := newStreamEdge(t, func(o *Options) { o.MSTURN = !disabled })

		// UDP: the first Allocate of an MS client, then an RFC Binding,
		// whose answer must be the first datagram back when the dialect is
		// off.
		c := se.newClient("", "")
		var b msturn.Builder
		b.Start(make([]byte, 0, 64), msturn.AllocateRequest, msturn.TxID{1, 2, 3})
		b.AddUint32(msturn.AttrMSVersion, 1)
		c.send(b.Message())
		if !disabled {
			var m msturn.Message
			if err := m.Decode(c.read()); err != nil || m.Type != msturn.AllocateError {
				t.Fatalf("enabled: answer %v type %#x", err, m.Type)
			}
			if code, _ := m.ErrorCode(); code != msturn.CodeUnauthorized {
				t.Fatalf("enabled: code %d", code)
			}
		} else {
			waitFor(t, func() bool { return se.srv.Stats().Dropped(stats.DropMalformed) == 1 })
			if resp := c.do(stun.MethodBinding); resp.Type != stun.BindingSuccess {
				t.Fatalf("disabled: first answer %v, want the Binding success", resp.Type)
			}
		}

		// TCP: pseudo-TLS.
		conn := se.dial(false)
		if _, err := conn.Write(hello); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(ioTimeout))
		if !disabled {
			got := make([]byte, msturn.ServerHelloSize)
			if _, err := io.ReadFull(conn, got); err != nil || !bytes.HasPrefix(got, []byte{0x16, 0x03, 0x01, 0x00, 0x4e, 0x02}) {
				t.Fatalf("enabled: read %x, %v; want the ServerHello", got, err)
			}
			continue
		}
		// Off, the hello is taken for real TLS: at most an alert
		// (content type 21), then the connection closes.
		got, err := io.ReadAll(conn)
		if err != nil || (len(got) > 0 && got[0] != 0x15) {
			t.Fatalf("disabled: read %x, %v; want an alert or nothing, then the connection closed", got, err)
		}
	}
}
