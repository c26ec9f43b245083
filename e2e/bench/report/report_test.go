package main

import (
	"bytes"
	"errors"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpread(t *testing.T) {
	tests := []struct {
		name string
		vals []*float64
		want Spread
		ok   bool
	}{
		{"none", nil, Spread{}, false},
		{"absent only", []*float64{nil}, Spread{}, false},
		{"odd", []*float64{f(3), f(1), nil, f(2)}, Spread{Median: 2, Min: 1, Max: 3, N: 3}, true},
		{"even", []*float64{f(4), f(1), f(2), f(3)}, Spread{Median: 2.5, Min: 1, Max: 4, N: 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs []Record
			for _, v := range tt.vals {
				runs = append(runs, Record{Result: Result{CPUPerPacket: v}})
			}
			got, ok := spread(runs, func(r Record) *float64 { return r.Result.CPUPerPacket })
			if got != tt.want || ok != tt.ok {
				t.Fatalf("spread = %+v %v, want %+v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func f(v float64) *float64 { return &v }

func TestReadResultsErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"not JSON", "{\n"},
		{"no server", `{"load":"audio","result":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := readResults(strings.NewReader(tt.in)); !errors.Is(err, ErrInput) {
				t.Fatalf("err = %v, want ErrInput", err)
			}
		})
	}
}

func TestSplice(t *testing.T) {
	beginMarker, endMarker := markers(sectionCompare)
	tests := []struct{ name, page, want string }{
		{"empty", "", beginMarker + "\nS\n" + endMarker + "\n"},
		{"before first section", "# T\n\nintro\n\n## Micro\nx\n",
			"# T\n\nintro\n\n" + beginMarker + "\nS\n" + endMarker + "\n\n## Micro\nx\n"},
		{"replaces between markers", "# T\n" + beginMarker + "\nold\n" + endMarker + "\n\n## Micro\n",
			"# T\n" + beginMarker + "\nS\n" + endMarker + "\n\n## Micro\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(splice([]byte(tt.page), "S\n", sectionCompare)); got != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRunWritesPageAndPlot(t *testing.T) {
	dir := t.TempDir()
	doc, img := filepath.Join(dir, "b.md"), filepath.Join(dir, "b.png")
	micro := "# Benchmarks\n\nintro\n\n## Forwarding path, per packet\n\n| a | b |\n"
	if err := os.WriteFile(doc, []byte(micro), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second run replaces the section instead of adding one
		if err := run([]string{"--in", "testdata/results.jsonl", "--doc", doc, "--png", img}, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		"## Forwarding path, per packet\n\n| a | b |\n",
		"| avedge | 2 | 49000 [48000–50000] | 0.98 | 0.000 | 75 [70–80] | 250 [200–300] | 0.62 | 850 [800–900] | 5.00 [4.00–6.00] | 1.00 | 20.0 |",
		"| coturn | 2 | 50000 | 1.00 | 0.100 |",
		"| avedge | 1 | 9000 | 3.00 | – |",
		"| avedge | 1 | 10000 | 29.5 | 2.00 | 0.11 |",
		"avedge bench audio --calls 500 --secret s --json --pid 2\n",
		"| server | rounds | relayed packets/s (both ways) | × coturn | × forwarder | offered packets/s per allocation |",
		"| avedge | 1 | 90000 | 1.50 | 0.90 | 11250 | 0.000 | 500 | 3.00 | 0.75 |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "<!-- e2e/bench/compare:begin -->"); n != 1 {
		t.Errorf("%d generated sections, want 1", n)
	}
	pf, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	cfg, err := png.DecodeConfig(pf)
	if err != nil {
		t.Fatal(err)
	}
	if want := margin + 5*(panelW+margin); cfg.Width != want { // audio ×2, maxrate, churn, idle
		t.Errorf("plot width %d, want %d", cfg.Width, want)
	}
}

func TestCompact(t *testing.T) {
	for v, want := range map[float64]string{9.721: "9.72", 2523.4: "2523", 117610: "117.6k", 2.5e6: "2.50M", 0: "0.00"} {
		if got := compact(v); got != want {
			t.Errorf("compact(%v) = %q, want %q", v, got, want)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestNetnsSection renders testdata/netns.jsonl, the records of
// e2e/bench/netns, into the netns section and compares it with
// testdata/netns.golden.md (go test -update rewrites it; check the diff):
// the targets met (audio spread 0.25× coturn, maxrate spread 3.33×) and
// not (audio Poisson 0.50×), a target without coturn's figure, the
// generator's share and the datagrams that reached the edge's sockets.
func TestNetnsSection(t *testing.T) {
	in, err := os.Open("testdata/netns.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res, err := readResults(in)
	if err != nil {
		t.Fatal(err)
	}
	got := renderNetns(res, Machine{CPU: "Test CPU", Kernel: "Linux 6.18", Go: "go1.26", CPUs: 2, Date: "2026-12-07"})
	const golden = "testdata/netns.golden.md"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("netns section differs from %s (go test -update to accept):\n%s", golden, got)
	}
}

// TestNetnsSplice: the netns section goes after the compare section, and a
// second run replaces it, leaving the compare section alone.
func TestNetnsSplice(t *testing.T) {
	page := "# T\n\n<!-- e2e/bench/compare:begin -->\nC\n<!-- e2e/bench/compare:end -->\n\n## Micro\n"
	want := "# T\n\n<!-- e2e/bench/compare:begin -->\nC\n<!-- e2e/bench/compare:end -->\n\n" +
		"<!-- e2e/bench/netns:begin -->\nN2\n<!-- e2e/bench/netns:end -->\n\n## Micro\n"
	got := splice(splice([]byte(page), "N1\n", sectionNetns), "N2\n", sectionNetns)
	if string(got) != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// TestRunNetnsWritesNoPlot: --section netns writes its section into the
// page and no plot; an unknown section is refused.
func TestRunNetnsWritesNoPlot(t *testing.T) {
	dir := t.TempDir()
	doc, img := filepath.Join(dir, "b.md"), filepath.Join(dir, "b.png")
	if err := run([]string{"--section", "netns", "--in", "testdata/netns.jsonl", "--doc", doc, "--png", img}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(page), "<!-- e2e/bench/netns:begin -->\n## The eBPF offload in network namespaces") {
		t.Errorf("page:\n%s", page)
	}
	if _, err := os.Stat(img); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plot written with --section netns: %v", err)
	}
	if err := run([]string{"--section", "loopback", "--in", "testdata/netns.jsonl", "--doc", doc}, &bytes.Buffer{}); !errors.Is(err, ErrUsage) {
		t.Errorf("--section loopback: err = %v, want ErrUsage", err)
	}
}
