package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestSpareProcs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "") // empty counts as unset
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	n, raised := spareProcs(3)
	if want := runtime.NumCPU() + 3; !raised || n != want || runtime.GOMAXPROCS(0) != want {
		t.Fatalf("spareProcs(3) = %d, %v; GOMAXPROCS %d; want %d raised", n, raised, runtime.GOMAXPROCS(0), want)
	}
	t.Setenv("GOMAXPROCS", "1")
	runtime.GOMAXPROCS(1)
	if n, raised := spareProcs(3); raised || n != 1 {
		t.Fatalf("with GOMAXPROCS set: %d, %v; want 1 and untouched", n, raised)
	}
}

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	if !tuneGC() || debug.SetGCPercent(100) != edgeGOGC {
		t.Fatalf("tuneGC did not set GOGC=%d", edgeGOGC)
	}
	t.Setenv("GOGC", "200")
	if tuneGC() || debug.SetGCPercent(100) != 100 {
		t.Fatal("tuneGC overrode GOGC from the environment")
	}
}
