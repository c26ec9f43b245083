package offload

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/netnstest"
)

// newLoopbackLoader opens a Loader attached to no interface in a new
// namespace, whose routes lead to lo: enough to install channels between
// loopback addresses and read their counters, no packet relayed.
func newLoopbackLoader(tb testing.TB, every time.Duration) *Loader {
	tb.Helper()
	n := netnstest.New(tb, "avedge-offload")
	n.Add("edge")
	var l *Loader
	var err error
	inNS(tb, n.Name("edge"), func() {
		l, err = Open(Options{MaxEntries: 1 << 14, SnapshotEvery: every})
	})
	if errors.Is(err, ErrUnsupported) {
		skipUnsupported(tb, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Error(err)
		}
	})
	return l
}

// loopbackChannel is the i-th of up to 60000 distinct channels on
// loopback addresses.
func loopbackChannel(i int) Channel {
	return Channel{
		Client:   netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(1024+i)),
		Listener: netip.MustParseAddrPort("127.0.0.1:3478"),
		Number:   0x4000 + uint16(i%0x1000),
		Relayed:  netip.MustParseAddrPort("127.0.0.2:50000"),
		Peer:     netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), uint16(1024+i)),
		Lifetime: time.Minute,
	}
}

// wantCountersOf is what setCounters writes for the i-th channel.
func wantCountersOf(i int) Counters {
	return Counters{
		ToPeer:   Flow{Packets: uint64(i), Bytes: 100 * uint64(i)},
		ToClient: Flow{Packets: uint64(2 * i), Bytes: 50 * uint64(i)},
	}
}

// installCounted installs n loopback channels and writes wantCountersOf
// into their entries, as if the program had relayed that much.
func installCounted(tb testing.TB, l *Loader, n int) {
	tb.Helper()
	for i := range n {
		c := loopbackChannel(i)
		if err := l.Install(c); err != nil {
			tb.Fatal(err)
		}
		want := wantCountersOf(i)
		ck, pk := clientKey(c), peerKey(c)
		var tp offloadToPeerValue
		var tc offloadToClientValue
		if err := l.objs.ToPeer.Lookup(&ck, &tp); err != nil {
			tb.Fatal(err)
		}
		if err := l.objs.ToClient.Lookup(&pk, &tc); err != nil {
			tb.Fatal(err)
		}
		tp.Packets, tp.Bytes = want.ToPeer.Packets, want.ToPeer.Bytes
		tc.Packets, tc.Bytes = want.ToClient.Packets, want.ToClient.Bytes
		if err := l.objs.ToPeer.Update(&ck, &tp, 0); err != nil {
			tb.Fatal(err)
		}
		if err := l.objs.ToClient.Update(&pk, &tc, 0); err != nil {
			tb.Fatal(err)
		}
	}
}

// checkSnapshot fails unless s holds exactly the counters of the first n
// loopback channels.
func checkSnapshot(t *testing.T, s Snapshot, n int) {
	t.Helper()
	for i := range n {
		got, ok := s.Counters(loopbackChannel(i))
		if want := wantCountersOf(i); !ok || got != want {
			t.Fatalf("snapshot %d: channel %d: %+v, %v; want %+v", s.Seq(), i, got, ok, want)
		}
	}
	if got, ok := s.Counters(loopbackChannel(n)); ok {
		t.Errorf("snapshot %d holds channel %d, never installed: %+v", s.Seq(), n, got)
	}
}

// TestSnapshotRead reads more channels than a batch holds, with
// BPF_MAP_LOOKUP_BATCH and with the key-by-key fallback, and finds every
// channel's counters and no other.
func TestSnapshotRead(t *testing.T) {
	l := newLoopbackLoader(t, time.Hour)
	const n = 2*snapshotBatch + 100
	installCounted(t, l, n)
	for _, iterate := range []bool{false, true} {
		r := newSnapshotReader()
		r.iterate = iterate
		s, err := r.read(&l.objs, 7, 0)
		if err != nil {
			t.Fatalf("iterate=%v: %v", iterate, err)
		}
		if s.Seq() != 7 || len(s.toPeer) != n || len(s.toClient) != n {
			t.Errorf("iterate=%v: snapshot %d of %d+%d entries, want 7 of %d+%d", iterate, s.Seq(), len(s.toPeer), len(s.toClient), n, n)
		}
		checkSnapshot(t, s, n)
		if r.iterate != iterate {
			t.Errorf("iterate=%v: the reader fell back to iterating: the kernel has no batch lookup", iterate)
		}
	}
}

// TestSnapshotPublished: the Loader's own reader publishes numbered
// snapshots; one read after an Install holds the channel, one read after
// a Remove does not.
func TestSnapshotPublished(t *testing.T) {
	l := newLoopbackLoader(t, 10*time.Millisecond)
	installCounted(t, l, 3)
	s := waitSnapshot(t, l, l.Snapshot().Seq()+2)
	checkSnapshot(t, s, 3)
	if err := l.Remove(loopbackChannel(2)); err != nil {
		t.Fatal(err)
	}
	s = waitSnapshot(t, l, l.Snapshot().Seq()+2)
	checkSnapshot(t, s, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Snapshot().Seq() < s.Seq() {
		t.Errorf("after Close: snapshot %d, want %d or later", l.Snapshot().Seq(), s.Seq())
	}
}

// waitSnapshot waits for the snapshot numbered seq or later. The reader
// runs on its own ticker: there is no event to wait on but the next one.
func waitSnapshot(t *testing.T, l *Loader, seq uint64) Snapshot {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s := l.Snapshot(); s.Seq() >= seq {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot %d within 5 s (at %d)", seq, l.Snapshot().Seq())
		}
		time.Sleep(time.Millisecond)
	}
}

// benchChannels is the number of channels of the benchmarks: a full edge
// of 16 384 two-party calls.
const benchChannels = 16384

// BenchmarkCountersExact reads every channel's counters the exact way,
// two map lookups each under the Loader's lock: what each worker did every
// second before the snapshot (one op: all channels).
func BenchmarkCountersExact(b *testing.B) {
	l := newLoopbackLoader(b, time.Hour)
	installCounted(b, l, benchChannels)
	b.ReportAllocs()
	for b.Loop() {
		for i := range benchChannels {
			if _, err := l.Counters(loopbackChannel(i)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSnapshotRead reads both maps into a snapshot, as the Loader's
// reader does once a second (one op: all channels).
func BenchmarkSnapshotRead(b *testing.B) {
	l := newLoopbackLoader(b, time.Hour)
	installCounted(b, l, benchChannels)
	for _, iterate := range []bool{false, true} {
		name := "batch"
		if iterate {
			name = "iterate"
		}
		b.Run(name, func(b *testing.B) {
			r := newSnapshotReader()
			r.iterate = iterate
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.read(&l.objs, 1, benchChannels); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSnapshotCounters reads every channel's counters from a
// snapshot, as the workers do (one op: all channels).
func BenchmarkSnapshotCounters(b *testing.B) {
	l := newLoopbackLoader(b, time.Hour)
	installCounted(b, l, benchChannels)
	s, err := newSnapshotReader().read(&l.objs, 1, benchChannels)
	if err != nil {
		b.Fatal(err)
	}
	chans := make([]Channel, benchChannels)
	for i := range chans {
		chans[i] = loopbackChannel(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range chans {
			if _, ok := s.Counters(c); !ok {
				b.Fatal("channel missing")
			}
		}
	}
}
