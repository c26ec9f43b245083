package probe

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// sampleReport has a check of each status, with fixed times.
func sampleReport() *Report {
	return &Report{
		Target:  "turn:edge.example.com",
		Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Checks: []Result{
			{Name: "dns edge.example.com", Status: Pass, Detail: "A 192.0.2.10; AAAA none; probing 192.0.2.10", Duration: 12345 * time.Microsecond},
			{Name: "stun udp 192.0.2.10:3478", Status: Fail, Detail: "no Binding answer: probe: no answer after 5s",
				Remedy: "UDP 3478 is blocked by a firewall", Duration: 5 * time.Second},
			{Name: "tcp 192.0.2.10:443", Status: Pass, Detail: "connected in 21.5ms", Duration: 21500 * time.Microsecond},
			{Name: "tls edge.example.com:443", Status: Warn, Detail: "certificate expires in 12 days", Remedy: "renew the certificate",
				Duration: 48 * time.Millisecond},
			{Name: "allocate udp 192.0.2.10:3478", Status: Skip, Detail: "UDP port not answering (see the stun check)"},
			{Name: "nat", Status: Pass, Detail: "no sign of NAT in front of the edge", Duration: 3 * time.Microsecond},
		},
	}
}

func TestReportText(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.Bytes())
}

func TestReportJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b.Bytes())
}

func TestReportOK(t *testing.T) {
	r := sampleReport()
	if r.OK() || r.Count(Fail) != 1 || r.Count(Pass) != 3 || r.Summary() != "FAIL: 1 failed, 1 warned, 3 passed, 1 skipped" {
		t.Errorf("ok %v, summary %q", r.OK(), r.Summary())
	}
	r.Checks[1].Status = Warn
	if !r.OK() || r.Summary() != "OK: 0 failed, 2 warned, 3 passed, 1 skipped" {
		t.Errorf("ok %v, summary %q", r.OK(), r.Summary())
	}
}

func TestStatusText(t *testing.T) {
	for s, want := range map[Status]string{Pass: "pass", Warn: "warn", Fail: "fail", Skip: "skip", Status(9): "status(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", int(s), got, want)
		}
	}
	if _, err := Status(9).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown status succeeded")
	}
}
