package bench

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReadSoftirqdSums builds a fake /proc: two ksoftirqd threads are
// summed, other tasks and non-numeric entries are not.
func TestReadSoftirqdSums(t *testing.T) {
	dir := t.TempDir()
	task := func(pid, comm, stat string) {
		t.Helper()
		d := filepath.Join(dir, pid)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "comm"), []byte(comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	task("14", "ksoftirqd/0", "14 (ksoftirqd/0) S 2 0 0 0 -1 0 0 0 0 0 10 20 0 0")
	task("22", "ksoftirqd/1", "22 (ksoftirqd/1) S 2 0 0 0 -1 0 0 0 0 0 1 2 0 0")
	task("99", "avedge", "99 (avedge) S 1 1 1 0 -1 0 0 0 0 0 500 500 0 0")
	task("self", "ksoftirqd/9", "9 (ksoftirqd/9) S 2 0 0 0 -1 0 0 0 0 0 700 700 0 0")
	got, err := readSoftirqd(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := 330 * time.Millisecond; got != want {
		t.Errorf("readSoftirqd = %v, want %v", got, want)
	}
}

func TestReadSoftirqdNone(t *testing.T) {
	if _, err := readSoftirqd(t.TempDir()); !errors.Is(err, ErrProc) {
		t.Errorf("err = %v, want ErrProc", err)
	}
}

func TestReadSoftirqdThisKernel(t *testing.T) {
	if _, err := ReadSoftirqd(); err != nil {
		t.Fatal(err)
	}
}
