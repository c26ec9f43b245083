package policy

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/clock"
)

func TestNewBandwidth(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rate, burst  uint64
		off, invalid bool
	}{
		{name: "zero is off", off: true},
		{name: "rate with default burst", rate: 250_000},
		{name: "explicit burst", rate: 250_000, burst: 500_000},
		{name: "maximum rate", rate: MaxBandwidth},
		{name: "rate too high", rate: MaxBandwidth + 1, invalid: true},
		{name: "burst too long", rate: 100_000, burst: 10_000_000, invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBandwidth(tc.rate, tc.burst)
			if tc.invalid {
				if !errors.Is(err, ErrBandwidth) {
					t.Fatalf("err = %v, want ErrBandwidth", err)
				}
				return
			}
			if err != nil || b.Off() != tc.off {
				t.Fatalf("NewBandwidth = %+v, %v; want off %v", b, err, tc.off)
			}
		})
	}
}

// drain sends packets of size bytes into allow until one is refused and
// returns the bytes admitted.
func drain(allow func(n int) bool, size int) int {
	total := 0
	for i := 0; i < 1_000_000 && allow(size); i++ {
		total += size
	}
	return total
}

func TestBucketRateAndBurst(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		name        string
		rate, burst uint64
		wantBurst   int // bytes admitted at once from a full bucket
	}{
		{"burst of one second", 1_000_000, 0, 1_000_000},
		{"burst raised to one maximum packet", 10_000, 0, MinBurst / size * size},
		{"explicit burst", 1_000_000, 200_000, 200_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bw, err := NewBandwidth(tc.rate, tc.burst)
			if err != nil {
				t.Fatal(err)
			}
			clk := clock.NewFake(time.Unix(1_700_000_000, 0))
			epoch := clk.Now()
			now := func() int64 { return int64(clk.Now().Sub(epoch)) }
			var k Bucket
			allow := func(n int) bool { return k.Allow(&bw, n, now()) }
			if got := drain(allow, size); got != tc.wantBurst {
				t.Fatalf("full bucket admitted %d bytes, want %d", got, tc.wantBurst)
			}
			// Refill: after d, rate×d more bytes (within a packet).
			clk.Advance(100 * time.Millisecond)
			want := int(tc.rate / 10)
			if got := drain(allow, size); got < want-size || got > want {
				t.Fatalf("after 100ms: %d bytes, want %d (±%d)", got, want, size)
			}
			// A long idle period refills to the burst, not beyond.
			clk.Advance(time.Hour)
			if got := drain(allow, size); got != tc.wantBurst {
				t.Fatalf("after an hour: %d bytes, want %d", got, tc.wantBurst)
			}
		})
	}
}

func TestBucketOffAllowsAll(t *testing.T) {
	var (
		bw Bandwidth
		k  Bucket
		s  SharedBucket
	)
	for i := range 1000 {
		if !k.Allow(&bw, 65535, int64(i)) || !s.Allow(&bw, 65535, int64(i)) {
			t.Fatal("an off bandwidth refused a packet")
		}
	}
}

func TestSharedBucketConcurrent(t *testing.T) {
	const (
		rate = 1_000_000
		size = 100
	)
	bw, err := NewBandwidth(rate, 0)
	if err != nil {
		t.Fatal(err)
	}
	var (
		k     SharedBucket
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 8 {
		wg.Go(func() {
			n := drain(func(n int) bool { return k.Allow(&bw, n, 0) }, size)
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != rate {
		t.Fatalf("8 goroutines drew %d bytes at one instant, want the burst %d", total, rate)
	}
	// Later, the refill is shared too.
	if got := drain(func(n int) bool { return k.Allow(&bw, n, int64(time.Second/2)) }, size); got != rate/2 {
		t.Fatalf("after 500ms: %d bytes, want %d", got, rate/2)
	}
}

func TestBucketDoesNotAllocate(t *testing.T) {
	bw, err := NewBandwidth(1_000_000, 0)
	if err != nil {
		t.Fatal(err)
	}
	var (
		k   Bucket
		s   SharedBucket
		now int64
	)
	if a := testing.AllocsPerRun(1000, func() {
		now += 1000
		k.Allow(&bw, 172, now)
		s.Allow(&bw, 172, now)
	}); a != 0 {
		t.Fatalf("%v allocations per call, want 0", a)
	}
}

// TestSharedBucketReserve: the burst goes at once, then each reservation
// waits for its bytes' time at the rate; an idle bucket refills to the
// burst; off never waits.
func TestSharedBucketReserve(t *testing.T) {
	bw, err := NewBandwidth(100_000, MinBurst) // 100 kB/s, a burst of MinBurst
	if err != nil {
		t.Fatal(err)
	}
	var k SharedBucket
	const chunk = 16 << 10
	now := int64(0)
	for range MinBurst / chunk {
		if w := k.Reserve(&bw, chunk, now); w != 0 {
			t.Fatalf("within the burst: wait %v", time.Duration(w))
		}
	}
	// Beyond the burst: each chunk waits its transmission time more.
	for i := 1; i <= 3; i++ {
		w := time.Duration(k.Reserve(&bw, chunk, now))
		want := time.Duration(i) * chunk * time.Second / 100_000
		if w < want || w > want+time.Millisecond {
			t.Fatalf("chunk %d beyond the burst: wait %v, want %v", i, w, want)
		}
	}
	now += int64(time.Hour)
	if w := k.Reserve(&bw, chunk, now); w != 0 {
		t.Fatalf("after an idle hour: wait %v", time.Duration(w))
	}
	var off Bandwidth
	if w := k.Reserve(&off, 1<<30, now); w != 0 {
		t.Fatalf("off: wait %v", time.Duration(w))
	}
}
