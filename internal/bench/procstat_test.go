package bench

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestReadProcSelf(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS < 1<<20 || s.CPU < 0 {
		t.Errorf("sample %+v", s)
	}
}

func TestReadProcMissing(t *testing.T) {
	if _, err := ReadProc(1 << 30); !errors.Is(err, ErrProc) {
		t.Errorf("err = %v, want ErrProc", err)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{"plain", "1 (avedge) S 1 1 1 0 -1 0 0 0 0 0 250 150 0 0 20 0 8 0", 4 * time.Second, true},
		{"name with spaces and parens", "7 (a) b) c) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, true},
		{"no name", "1 avedge S", 0, false},
		{"short", "1 (x) S 1 2", 0, false},
		{"bad number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 2 0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("= %v, %v; want %v ok=%v", got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrProc) {
				t.Errorf("err %v is not ErrProc", err)
			}
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
		ok   bool
	}{
		{"present", "Name:\tavedge\nVmPeak:\t 100 kB\nVmRSS:\t   14708 kB\nThreads:\t8\n", 14708 * 1024, true},
		{"absent", "Name:\tavedge\n", 0, false},
		{"bad unit", "VmRSS:\t1 MB\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatusRSS([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("= %v, %v; want %v ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}
