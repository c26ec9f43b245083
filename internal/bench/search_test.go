package bench

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeFlood is a flood step that loses nothing up to limit packets/s per
// allocation and 1% above it, recording the rates it was asked for.
type fakeFlood struct {
	limit int
	rates []int
	fail  error
}

func (f *fakeFlood) step(_ context.Context, cfg Config) (Result, error) {
	f.rates = append(f.rates, cfg.Rate)
	if cfg.MaxLoss != 0 {
		return Result{}, errors.New("a step must not search again")
	}
	if f.fail != nil {
		return Result{}, f.fail
	}
	sent := uint64(float64(cfg.Rate*cfg.Calls) * cfg.Duration.Seconds())
	loss := 0.0
	if cfg.Rate > f.limit {
		loss = 0.01
	}
	return Result{Mode: "flood", Calls: cfg.Calls, DurationS: cfg.Duration.Seconds(), Sent: &sent, Loss: &loss}, nil
}

func TestSearch(t *testing.T) {
	tests := []struct {
		name      string
		start     int
		steps     int
		limit     int
		wantRates []int
		wantRate  float64
		wantLoss  float64
	}{
		// Doubling 1000..8000 passes, 16000 fails; bisection: 12000 fails,
		// 10000 fails, 9000 passes, 9500 fails.
		{"bisects", 1000, 4, 9100, []int{1000, 2000, 4000, 8000, 16000, 12000, 10000, 9000, 9500}, 9000, 0},
		{"default start and steps", 0, 0, 1500, []int{1000, 2000, 1500, 1750, 1625, 1562}, 1500, 0},
		// Nothing passes: the first run is the answer, over the bound.
		{"first fails", 4000, 4, 100, []int{4000}, 4000, 0.01},
		// SearchSteps 0 means the default, 4; a rate at the limit passes.
		{"zero steps means four", 1000, 0, 3000, []int{1000, 2000, 4000, 3000, 3500, 3250, 3125}, 3000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFlood{limit: tt.limit}
			var progress strings.Builder
			cfg := Config{Mode: ModeFlood, Calls: 4, Rate: tt.start, MaxLoss: 0.001, SearchSteps: tt.steps,
				Duration: time.Second, Progress: &progress}
			res, err := search(context.Background(), cfg, f.step)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.rates, tt.wantRates) {
				t.Errorf("rates tried %v, want %v", f.rates, tt.wantRates)
			}
			if res.RatePerCall == nil || *res.RatePerCall != tt.wantRate || *res.Loss != tt.wantLoss {
				t.Errorf("result rate %v loss %v, want %v and %v", deref(res.RatePerCall), *res.Loss, tt.wantRate, tt.wantLoss)
			}
			if res.MaxLoss == nil || *res.MaxLoss != 0.001 {
				t.Errorf("max loss %v, want 0.001", res.MaxLoss)
			}
			if got := strings.Count(progress.String(), "search: "); got != len(tt.wantRates) {
				t.Errorf("%d progress lines, want %d:\n%s", got, len(tt.wantRates), progress.String())
			}
		})
	}
}

// TestSearchUnderOffered: a step that sent less than 90% of its offered
// rate does not pass, whatever its loss.
func TestSearchUnderOffered(t *testing.T) {
	sent, loss := uint64(100), 0.0
	res := Result{Calls: 4, DurationS: 1, Sent: &sent, Loss: &loss, RatePerCall: ptr(1000.0)}
	if passes(res, Config{MaxLoss: 0.001}) {
		t.Fatal("a run that sent 100 of 4000 packets passed")
	}
	sent = 3700
	if !passes(res, Config{MaxLoss: 0.001}) {
		t.Fatal("a run that sent 3700 of 4000 packets without loss failed")
	}
}

func TestSearchStepError(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeFlood{fail: boom}
	_, err := search(context.Background(), Config{Mode: ModeFlood, Calls: 1, MaxLoss: 0.001, Duration: time.Second}, f.step)
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want %v", err, boom)
	}
}
