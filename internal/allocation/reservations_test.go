package allocation

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReservations drives a table through reserve, claim and expire steps
// with a fake clock.
func TestReservations(t *testing.T) {
	a, b := ap("203.0.113.1:50001"), ap("[2001:db8::1]:50003")
	type step struct {
		advance time.Duration
		op      string // "reserve a", "reserve b", "claim a", "claim b", "claim unknown", "expire"
		want    error
		expired []netip.AddrPort // for "expire"
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"claim gives the address once", []step{
			{0, "reserve a", nil, nil}, {0, "claim a", nil, nil}, {0, "claim a", ErrNoReservation, nil},
			{time.Minute, "expire", nil, nil},
		}},
		{"unknown token", []step{{0, "reserve a", nil, nil}, {0, "claim unknown", ErrNoReservation, nil}}},
		{"claim just before the hold ends", []step{{0, "reserve a", nil, nil}, {30*time.Second - 1, "claim a", nil, nil}}},
		{"expired token is refused before Expire runs", []step{
			{0, "reserve a", nil, nil}, {30 * time.Second, "claim a", ErrNoReservation, nil},
			{0, "expire", nil, []netip.AddrPort{a}}, {0, "expire", nil, nil},
		}},
		{"expire returns only expired, in order", []step{
			{0, "reserve a", nil, nil}, {10 * time.Second, "reserve b", nil, nil},
			{20*time.Second - 1, "expire", nil, nil},
			{1, "expire", nil, []netip.AddrPort{a}},
			{10 * time.Second, "expire", nil, []netip.AddrPort{b}},
		}},
		{"claimed reservation is not returned by expire", []step{
			{0, "reserve a", nil, nil}, {0, "reserve b", nil, nil}, {0, "claim b", nil, nil},
			{time.Minute, "expire", nil, []netip.AddrPort{a}},
		}},
		{"full until one is claimed or expires", []step{
			{0, "reserve a", nil, nil}, {0, "reserve b", nil, nil},
			{0, "reserve a", ErrTooManyReservations, nil},
			{0, "claim a", nil, nil}, // a claimed one leaves the table at once
			{0, "reserve a", nil, nil},
			{30 * time.Second, "expire", nil, []netip.AddrPort{b, a}},
			{0, "reserve a", nil, nil},
		}},
		{"claim from the middle keeps the order", []step{
			{0, "reserve a", nil, nil}, {time.Second, "reserve b", nil, nil}, {0, "claim a", nil, nil},
			{time.Second, "reserve a", nil, nil},
			{29 * time.Second, "expire", nil, []netip.AddrPort{b}},
			{time.Second, "expire", nil, []netip.AddrPort{a}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			r := NewReservations(2, 0, nil)
			tokens := map[string]Token{"unknown": {9, 9, 9, 9, 9, 9, 9, 9}}
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				now := clk.Now()
				op, arg, _ := strings.Cut(s.op, " ")
				addr := map[string]netip.AddrPort{"a": a, "b": b}[arg]
				switch op {
				case "reserve":
					tok, err := r.Reserve(addr, now)
					if !errors.Is(err, s.want) {
						t.Fatalf("step %d: Reserve = %v, want %v", i, err, s.want)
					}
					if err == nil {
						tokens[arg] = tok
					}
				case "claim":
					got, err := r.Claim(tokens[arg], now)
					if !errors.Is(err, s.want) || (err == nil && got != addr) {
						t.Fatalf("step %d: Claim(%s) = %v, %v; want %v, %v", i, arg, got, err, addr, s.want)
					}
				case "expire":
					if got := r.Expire(now, nil); !slices.Equal(got, s.expired) {
						t.Fatalf("step %d: Expire = %v, want %v", i, got, s.expired)
					}
				}
			}
		})
	}
}

// TestReservationsChurn: reservations claimed as soon as they are made
// (EVEN-PORT R=1, an Allocate with the token, then Refresh 0, over and
// over) never fill the table, however many are made within the hold time
// (security review 2026-12, finding 13); unclaimed ones still do.
func TestReservationsChurn(t *testing.T) {
	const size = 4
	r := NewReservations(size, 0, nil)
	now := start
	for i := range 100 * size {
		addr := netip.AddrPortFrom(ip("203.0.113.1"), uint16(50000+i))
		tok, err := r.Reserve(addr, now)
		if err != nil {
			t.Fatalf("reservation %d: %v", i, err)
		}
		if got, err := r.Claim(tok, now); err != nil || got != addr {
			t.Fatalf("claim %d: %v, %v", i, got, err)
		}
		now = now.Add(time.Millisecond)
	}
	if n := r.Len(); n != 0 {
		t.Fatalf("Len = %d after claiming every reservation", n)
	}
	for i := range size {
		if _, err := r.Reserve(netip.AddrPortFrom(ip("203.0.113.2"), uint16(50000+i)), now); err != nil {
			t.Fatalf("unclaimed reservation %d: %v", i, err)
		}
	}
	if _, err := r.Reserve(ap("203.0.113.3:50000"), now); !errors.Is(err, ErrTooManyReservations) {
		t.Fatalf("reservation beyond %d unclaimed: %v, want ErrTooManyReservations", size, err)
	}
	if got := r.Expire(now.Add(ReservationHold), nil); len(got) != size {
		t.Fatalf("Expire = %v, want the %d unclaimed", got, size)
	}
}

// TestReservationsModel drives a table with random reserves, claims and
// expiries and checks every answer against a plain list of the unclaimed
// reservations in the order they were made.
func TestReservationsModel(t *testing.T) {
	const size = 8
	rng := rand.New(rand.NewPCG(1, 2))
	r := NewReservations(size, 0, nil)
	type entry struct {
		tok     Token
		addr    netip.AddrPort
		expires time.Time
	}
	var model, claimed []entry
	now := start
	for i := range 20000 {
		now = now.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
		switch op := rng.IntN(3); {
		case op == 0:
			addr := netip.AddrPortFrom(ip("203.0.113.1"), uint16(i))
			tok, err := r.Reserve(addr, now)
			if full := len(model) == size; full != errors.Is(err, ErrTooManyReservations) || !full && err != nil {
				t.Fatalf("op %d: Reserve with %d held: %v", i, len(model), err)
			}
			if err == nil {
				model = append(model, entry{tok, addr, now.Add(ReservationHold)})
			}
		case op == 1 && len(model) > 0:
			j := rng.IntN(len(model))
			e := model[j]
			got, err := r.Claim(e.tok, now)
			if live := now.Before(e.expires); live != (err == nil) || live && got != e.addr {
				t.Fatalf("op %d: Claim = %v, %v; live %v", i, got, err, live)
			}
			if err == nil {
				model = slices.Delete(model, j, j+1)
				claimed = append(claimed, e)
			}
		case op == 1 && len(claimed) > 0:
			if _, err := r.Claim(claimed[rng.IntN(len(claimed))].tok, now); !errors.Is(err, ErrNoReservation) {
				t.Fatalf("op %d: a claimed token claimed again: %v", i, err)
			}
		default:
			var want []netip.AddrPort
			for len(model) > 0 && !now.Before(model[0].expires) {
				want = append(want, model[0].addr)
				model = model[1:]
			}
			if got := r.Expire(now, nil); !slices.Equal(got, want) {
				t.Fatalf("op %d: Expire = %v, want %v", i, got, want)
			}
		}
		if r.Len() != len(model) {
			t.Fatalf("op %d: Len = %d, want %d", i, r.Len(), len(model))
		}
	}
}

func TestReservationTokens(t *testing.T) {
	r := NewReservations(100, 0, nil)
	seen := map[Token]bool{}
	for i := range 100 {
		tok, err := r.Reserve(netip.AddrPortFrom(ip("203.0.113.1"), uint16(50000+i)), start)
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] || tok == (Token{}) {
			t.Fatalf("token %x repeated or zero", tok)
		}
		seen[tok] = true
	}
	if r.Len() != 100 {
		t.Fatalf("Len = %d, want 100", r.Len())
	}
	// A token source that repeats itself is asked again; one that fails
	// fails the reservation.
	rep := NewReservations(4, 0, bytes.NewReader(append(bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 8)...)))
	t1, err1 := rep.Reserve(ap("203.0.113.1:1"), start)
	t2, err2 := rep.Reserve(ap("203.0.113.1:2"), start)
	if err1 != nil || err2 != nil || t1 == t2 || t2 != (Token{2, 2, 2, 2, 2, 2, 2, 2}) {
		t.Fatalf("repeated token: %x (%v), %x (%v)", t1, err1, t2, err2)
	}
	if _, err := rep.Reserve(ap("203.0.113.1:3"), start); err == nil {
		t.Fatal("Reserve with an exhausted token source succeeded")
	}
}

func TestReservationsExpireAllocs(t *testing.T) {
	r := NewReservations(16, 0, nil)
	dst := make([]netip.AddrPort, 0, 16)
	if _, err := r.Reserve(ap("203.0.113.1:50001"), start); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { dst = r.Expire(start, dst[:0]) }); n != 0 {
		t.Errorf("idle Expire allocates %v times, want 0", n)
	}
}

func TestReservationsConcurrent(t *testing.T) {
	const n = 200
	r := NewReservations(n, 0, nil)
	tokens := make(chan Token, n)
	for i := range n {
		tok, err := r.Reserve(netip.AddrPortFrom(ip("203.0.113.1"), uint16(40000+i)), start)
		if err != nil {
			t.Fatal(err)
		}
		tokens <- tok
	}
	close(tokens)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  = map[netip.AddrPort]int{}
		errs int
	)
	for range 8 {
		wg.Go(func() {
			for tok := range tokens {
				// Every token is claimed twice; only one may succeed.
				for range 2 {
					addr, err := r.Claim(tok, start)
					mu.Lock()
					if err != nil {
						errs++
					} else {
						got[addr]++
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(got) != n || errs != n || r.Len() != 0 {
		t.Fatalf("claimed %d addresses, %d refusals, Len %d; want %d, %d, 0", len(got), errs, r.Len(), n, n)
	}
}
