package bench

import (
	"errors"
	"testing"
	"time"
)

func TestParseMachineCPU(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want MachineCPU
		ok   bool
	}{
		{"kernel 6", "cpu  100 20 30 400 50 6 70 8 900 900\ncpu0 1 2 3 4 5 6 7 8 9 9\n",
			MachineCPU{Busy: 2340 * time.Millisecond, Total: 6840 * time.Millisecond}, true},
		{"exactly eight figures", "cpu 1 0 0 0 0 0 0 1\n", MachineCPU{Busy: 20 * time.Millisecond, Total: 20 * time.Millisecond}, true},
		{"per-core line first", "cpu0 1 2 3 4 5 6 7 8\n", MachineCPU{}, false},
		{"short", "cpu 1 2 3 4 5 6 7\n", MachineCPU{}, false},
		{"bad number", "cpu 1 2 3 x 5 6 7 8\n", MachineCPU{}, false},
		{"empty", "", MachineCPU{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMachineCPU([]byte(tt.in))
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("parseMachineCPU = %+v, %v; want %+v, ok %v", got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrProc) {
				t.Errorf("err = %v, want ErrProc", err)
			}
		})
	}
}

func TestReadMachineCPUGrows(t *testing.T) {
	a, err := ReadMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the busy count moves: it counts this process's own CPU
	// time, in ticks of 10 ms.
	deadline := time.Now().Add(5 * time.Second)
	b := a
	for b.Busy == a.Busy && time.Now().Before(deadline) {
		b, err = ReadMachineCPU()
		if err != nil {
			t.Fatal(err)
		}
	}
	if b.Busy <= a.Busy || b.Total < b.Busy || b.Total-a.Total < b.Busy-a.Busy {
		t.Errorf("before %+v, after %+v: busy did not grow, or total grew less than busy", a, b)
	}
}
