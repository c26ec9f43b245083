package allocation

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// seeded returns a deterministic randomness source.
func seeded() *rand.Rand { return rand.New(rand.NewPCG(7, 11)) }

// takeSpecific takes the given port from p, or returns ErrPortUnavailable if
// it is outside the pool or not free. Tests use it to set up a pool with
// chosen ports taken, and to check whether a port is still free.
func takeSpecific(p *PortPool, port int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isFree(port) {
		return fmt.Errorf("%w: %d", ErrPortUnavailable, port)
	}
	p.takeAt(int(p.pos[port-p.base]))
	return nil
}

func TestNewPortPoolRange(t *testing.T) {
	tests := []struct {
		first, last int
		wantErr     bool
	}{
		{50000, 59999, false},
		{1, 65535, false},
		{5000, 5000, false},
		{0, 10, true},
		{10, 65536, true},
		{6000, 5000, true},
	}
	for _, tt := range tests {
		p, err := NewPortPool(tt.first, tt.last, nil)
		if tt.wantErr {
			if !errors.Is(err, ErrBadRange) {
				t.Errorf("NewPortPool(%d, %d) = %v, want ErrBadRange", tt.first, tt.last, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("NewPortPool(%d, %d): %v", tt.first, tt.last, err)
		}
		if n := tt.last - tt.first + 1; p.Size() != n || p.Free() != n {
			t.Errorf("NewPortPool(%d, %d): Size %d Free %d, want %d", tt.first, tt.last, p.Size(), p.Free(), n)
		}
	}
}

func TestPortPoolTakeAll(t *testing.T) {
	p, err := NewPortPool(50000, 50999, seeded())
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 1000 {
		port, err := p.Take()
		if err != nil {
			t.Fatalf("Take after %d: %v", len(got), err)
		}
		got = append(got, port)
	}
	if _, err := p.Take(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("Take on empty pool = %v, want ErrNoPorts", err)
	}
	if p.Free() != 0 {
		t.Fatalf("Free = %d, want 0", p.Free())
	}
	if slices.IsSorted(got) {
		t.Error("ports handed out in order, want random order")
	}
	sorted := slices.Sorted(slices.Values(got))
	for i, port := range sorted {
		if port != 50000+i {
			t.Fatalf("sorted ports[%d] = %d, want %d (duplicate or out of range)", i, port, 50000+i)
		}
	}
	p.Release(50123)
	p.Release(50123) // double release ignored
	p.Release(49999) // out of range ignored
	if p.Free() != 1 {
		t.Fatalf("Free = %d after release, want 1", p.Free())
	}
	if port, err := p.Take(); err != nil || port != 50123 {
		t.Fatalf("Take = %d, %v; want 50123, nil", port, err)
	}
	if _, err := p.Take(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("double release created a second copy: Take = %v, want ErrNoPorts", err)
	}
}

func TestPortPoolUniform(t *testing.T) {
	p, err := NewPortPool(1000, 1009, seeded())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[int]int{}
	for range 10000 {
		port, err := p.Take()
		if err != nil {
			t.Fatal(err)
		}
		counts[port]++
		p.Release(port)
	}
	for port := 1000; port <= 1009; port++ {
		if c := counts[port]; c < 850 || c > 1150 {
			t.Errorf("port %d taken %d times of 10000, want about 1000", port, c)
		}
	}
}

func TestPortPoolQuarantine(t *testing.T) {
	p, err := NewPortPool(100, 103, seeded())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	p.Quarantine(101, now.Add(time.Minute)) // free port
	if err := takeSpecific(p, 102); err != nil {
		t.Fatal(err)
	}
	p.Quarantine(102, now.Add(2*time.Minute)) // taken port, e.g. the OS refused to bind it
	p.Release(102)                            // ignored: quarantined ports stay out
	p.Quarantine(99, now)                     // out of range: ignored
	p.Quarantine(101, now.Add(time.Hour))     // quarantined already: ignored
	if p.Free() != 2 {
		t.Fatalf("Free = %d, want 2", p.Free())
	}
	var got []int
	for {
		port, err := p.Take()
		if err != nil {
			break
		}
		got = append(got, port)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{100, 103}) {
		t.Fatalf("ports handed out = %v, want [100 103]", got)
	}
	if err := takeSpecific(p, 101); !errors.Is(err, ErrPortUnavailable) {
		t.Fatalf("takeSpecific(quarantined) = %v, want ErrPortUnavailable", err)
	}
	// Quarantines end in their time, not before.
	if n := p.EndQuarantines(now.Add(time.Minute - time.Nanosecond)); n != 0 || p.Quarantined() != 2 {
		t.Fatalf("EndQuarantines before the first ends: %d, %d left; want 0, 2", n, p.Quarantined())
	}
	if n := p.EndQuarantines(now.Add(time.Minute)); n != 1 || p.Quarantined() != 1 {
		t.Fatalf("EndQuarantines at the first's end: %d, %d left; want 1, 1", n, p.Quarantined())
	}
	if port, err := p.Take(); err != nil || port != 101 {
		t.Fatalf("Take = %d, %v; want 101 back", port, err)
	}
	if n := p.EndQuarantines(now.Add(time.Hour)); n != 1 || p.Free() != 1 {
		t.Fatalf("EndQuarantines later: %d, %d free; want 1, 1 (102)", n, p.Free())
	}
}

// TestPortPoolTakeSpecific checks the pool's bookkeeping when a port is
// taken from the middle of the free list (as Quarantine does), and the
// takeSpecific helper the other tests rely on.
func TestPortPoolTakeSpecific(t *testing.T) {
	p, err := NewPortPool(100, 109, seeded())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		port int
		want error
	}{
		{105, nil},
		{105, ErrPortUnavailable},
		{99, ErrPortUnavailable},
		{110, ErrPortUnavailable},
		{100, nil},
		{109, nil},
	}
	for _, tt := range tests {
		if err := takeSpecific(p, tt.port); !errors.Is(err, tt.want) {
			t.Errorf("takeSpecific(%d) = %v, want %v", tt.port, err, tt.want)
		}
	}
	if p.Free() != 7 {
		t.Fatalf("Free = %d, want 7", p.Free())
	}
	for range 7 {
		port, err := p.Take()
		if err != nil {
			t.Fatal(err)
		}
		if port == 100 || port == 105 || port == 109 {
			t.Fatalf("Take returned specifically taken port %d", port)
		}
	}
}

func TestPortPoolTakeEven(t *testing.T) {
	tests := []struct {
		name  string
		first int
		last  int
		taken []int
		want  []int // acceptable results; nil means ErrNoPorts
	}{
		{"single pair", 100, 101, nil, []int{100}},
		{"odd start", 101, 103, nil, []int{102}},
		{"last even has no successor", 100, 100, nil, nil},
		{"successor taken", 100, 103, []int{101}, []int{102}},
		{"no pair left", 100, 103, []int{101, 103}, nil},
		{"empty pool", 100, 101, []int{100, 101}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPortPool(tt.first, tt.last, seeded())
			if err != nil {
				t.Fatal(err)
			}
			for _, port := range tt.taken {
				if err := takeSpecific(p, port); err != nil {
					t.Fatal(err)
				}
			}
			port, err := p.TakeEven()
			if tt.want == nil {
				if !errors.Is(err, ErrNoPorts) {
					t.Fatalf("TakeEven = %d, %v; want ErrNoPorts", port, err)
				}
				return
			}
			if err != nil || !slices.Contains(tt.want, port) {
				t.Fatalf("TakeEven = %d, %v; want one of %v", port, err, tt.want)
			}
			if err := takeSpecific(p, port+1); err != nil {
				t.Fatalf("successor %d of even port not free: %v", port+1, err)
			}
		})
	}
}

func TestPortPoolConcurrent(t *testing.T) {
	p, err := NewPortPool(20000, 20999, nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]bool{}
	)
	for range 8 {
		wg.Go(func() {
			for range 125 {
				port, err := p.Take()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[port] {
					t.Errorf("port %d handed out twice", port)
				}
				seen[port] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 1000 || p.Free() != 0 {
		t.Fatalf("handed out %d distinct ports, Free %d; want 1000, 0", len(seen), p.Free())
	}
}

func TestPortPoolTakePair(t *testing.T) {
	tests := []struct {
		name  string
		first int
		last  int
		taken []int
		want  []int // acceptable results; nil means ErrNoPorts
	}{
		{"single pair", 100, 101, nil, []int{100}},
		{"odd start", 101, 103, nil, []int{102}},
		{"odd start and end", 101, 104, nil, []int{102}},
		{"successor taken", 100, 103, []int{101}, []int{102}},
		{"no pair left", 100, 103, []int{101, 102}, nil},
		{"lone even port", 100, 100, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPortPool(tt.first, tt.last, seeded())
			if err != nil {
				t.Fatal(err)
			}
			for _, port := range tt.taken {
				if err := takeSpecific(p, port); err != nil {
					t.Fatal(err)
				}
			}
			free := p.Free()
			port, err := p.TakePair()
			if tt.want == nil {
				if !errors.Is(err, ErrNoPorts) || p.Free() != free {
					t.Fatalf("TakePair = %d, %v, Free %d; want ErrNoPorts and nothing taken", port, err, p.Free())
				}
				return
			}
			if err != nil || !slices.Contains(tt.want, port) {
				t.Fatalf("TakePair = %d, %v; want one of %v", port, err, tt.want)
			}
			if p.Free() != free-2 {
				t.Fatalf("Free = %d after TakePair, want %d", p.Free(), free-2)
			}
			for _, q := range []int{port, port + 1} {
				if err := takeSpecific(p, q); !errors.Is(err, ErrPortUnavailable) {
					t.Fatalf("port %d of the pair is still free", q)
				}
			}
		})
	}
}

func TestPortPoolTakePairConcurrent(t *testing.T) {
	p, err := NewPortPool(30000, 30999, nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]bool{}
	)
	for range 4 {
		wg.Go(func() {
			for {
				port, err := p.TakePair()
				if err != nil {
					return
				}
				mu.Lock()
				if port%2 != 0 || seen[port] || seen[port+1] {
					t.Errorf("pair %d handed out twice or odd", port)
				}
				seen[port], seen[port+1] = true, true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 1000 || p.Free() != 0 {
		t.Fatalf("handed out %d ports in pairs, Free %d; want 1000, 0", len(seen), p.Free())
	}
}
