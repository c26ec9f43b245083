package metrics

import (
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/avedge/avedge/internal/authhook"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/offload"
	"github.com/avedge/avedge/internal/server/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fakeSource returns fixed Stats and counts the calls.
type fakeSource struct {
	st    stats.Stats
	calls atomic.Int64
}

func (f *fakeSource) Stats() stats.Stats {
	f.calls.Add(1)
	return f.st
}

// fakeCredentials returns fixed credential service counts.
type fakeCredentials struct{ st credsvc.Stats }

func (f fakeCredentials) Stats() credsvc.Stats { return f.st }

// fakeRecords reports a fixed number of dropped records, and one more
// failed write.
// fakeOffload reports distinct counts of each result.
type fakeOffload struct{}

func (fakeOffload) Stats() (offload.Stats, error) {
	return offload.Stats{ToPeer: 1401, ToClient: 1402, Expired: 1403, PassPartial: 1404, PassNoChecksum: 1405,
		PassMTU: 1406, Errors: 1407, PassNoNeighbour: 1408}, nil
}

// fakeWebhook reports distinct outcome counts and a latency histogram.
type fakeWebhook struct{}

func (fakeWebhook) Stats() authhook.Stats {
	var st authhook.Stats
	for o := range st.Outcomes {
		st.Outcomes[o] = uint64(1300 + o)
	}
	st.Latency = authhook.Histogram{Count: 7, Sum: 2.5, Buckets: map[float64]uint64{}}
	for i, b := range authhook.LatencyBuckets {
		st.Latency.Buckets[b] = uint64(min(i, 7))
	}
	return st
}

type fakeRecords uint64

func (f fakeRecords) Dropped() uint64     { return uint64(f) }
func (f fakeRecords) WriteErrors() uint64 { return uint64(f) + 1 }

// distinctCredentials returns credential service counts that all differ.
func distinctCredentials() fakeCredentials {
	var f fakeCredentials
	for e := range f.st.Requests {
		for o := range f.st.Requests[e] {
			f.st.Requests[e][o] = uint64(500 + 20*e + o)
		}
	}
	return f
}

// distinctStats returns Stats whose every counter holds a different value,
// so that a counter exported under the wrong name shows.
func distinctStats() stats.Stats {
	st := stats.Stats{
		ToPeerPackets: 1, ToPeerBytes: 2, ToClientPackets: 3, ToClientBytes: 4,
		Requests: 5, Allocations: 6,
		DataPath: datapath.Stats{
			RxPackets: 101, RxBytes: 102, RxBatches: 103, RxTruncated: 104, RxErrors: 105, RxDropped: 106,
			TxPackets: 107, TxBytes: 108, TxBatches: 109, TxErrors: 110, TxWouldBlock: 111,
			TxGSOSends: 112, TxGSOSegments: 113, TxGSOFallbacks: 114, BatchDelays: 115,
		},
		Stream: stats.StreamStats{
			Open: 201, Accepted: 202, RefusedTotal: 203, RefusedPerSource: 204, HandshakeFailed: 205,
			NotTURN: 206, FrameTooLarge: 207, FrameTimeouts: 208, IdleTimeouts: 209, WriteTimeouts: 210,
		},
		TCP: stats.TCPRelayStats{
			Connects: 301, ConnectFailed: 302, Inbound: 303, RefusedNoPermission: 304, RefusedLimit: 305,
			BindsExpired: 306, BadBinds: 307, Bound: 308, DataOpen: 309, ToPeerBytes: 310, ToClientBytes: 311,
		},
	}
	for r := range st.Drops {
		st.Drops[r] = uint64(11 + r)
	}
	// Two tenants, whose counts differ by 10000; the totals are theirs.
	st.Tenants = []stats.TenantStats{{Name: "default"}, {Name: "b"}}
	for t := range st.Tenants {
		ts := &st.Tenants[t]
		for k := range ts.AllocationsByKind {
			ts.AllocationsByKind[k] = int64(600 + 10000*t + k)
			ts.AllocationsCreated[k] = uint64(700 + 10000*t + k)
			st.AllocationsByKind[k] += ts.AllocationsByKind[k]
			st.Allocations += ts.AllocationsByKind[k]
			st.AllocationsCreated[k] += ts.AllocationsCreated[k]
		}
		for r := range ts.AllocationsEnded {
			ts.AllocationsEnded[r] = uint64(800 + 10000*t + r)
			st.AllocationsEnded[r] += ts.AllocationsEnded[r]
		}
	}
	for r := range st.Auth {
		st.Auth[r] = uint64(900 + r)
	}
	for c := range st.Refusals {
		st.Refusals[c] = uint64(1000 + c)
	}
	st.Ports = stats.PortStats{InUse: 1101, Reserved: 1102, Quarantined: 1103, Capacity: 1104}
	return st
}

// scrape registers a Collector of src on a pedantic registry (which checks
// the collected metrics against the described ones) and returns the text
// exposition its promhttp handler serves.
func scrape(t *testing.T, src Source) string {
	t.Helper()
	return scrapeOptions(t, Options{Server: src, Credentials: distinctCredentials(), Records: fakeRecords(1201), AuthWebhook: fakeWebhook{},
		Offload: fakeOffload{}})
}

// scrapeOptions is scrape with the Collector's options.
func scrapeOptions(t *testing.T, opts Options) string {
	t.Helper()
	opts.Version = "v1.2.3"
	c, err := NewCollector(opts)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update if the change is intended):\n%s", path, lineDiff(got, string(want)))
	}
}

// lineDiff lists the lines only in got (+) and only in want (-).
func lineDiff(got, want string) string {
	in := func(text string) map[string]bool {
		m := map[string]bool{}
		for l := range strings.Lines(text) {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for l := range strings.Lines(got) {
		if !w[l] {
			b.WriteString("+ " + l)
		}
	}
	for l := range strings.Lines(want) {
		if !g[l] {
			b.WriteString("- " + l)
		}
	}
	return b.String()
}

// TestExposition checks every exported value, name, type and help text
// against the golden exposition.
func TestExposition(t *testing.T) {
	golden(t, "exposition.golden", scrape(t, &fakeSource{st: distinctStats()}))
}

// TestNames checks the exact set of metric names and label sets: a
// renamed metric or label breaks dashboards and alerts, so it must show
// here.
func TestNames(t *testing.T) {
	var series []string
	for line := range strings.Lines(scrape(t, &fakeSource{st: distinctStats()})) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		series = append(series, name)
	}
	sort.Strings(series)
	golden(t, "names.golden", strings.Join(series, "\n")+"\n")
}

// TestDeclaredNames checks that the declarations are well formed: the
// prefix, the _total suffix exactly on counters, no name declared twice.
func TestDeclaredNames(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range families {
		if !strings.HasPrefix(f.name, "avedge_") {
			t.Errorf("%s: no avedge_ prefix", f.name)
		}
		if counterName := strings.HasSuffix(f.name, "_total"); counterName != (f.kind == prometheus.CounterValue) {
			t.Errorf("%s: a counter's name, and only a counter's, ends in _total", f.name)
		}
		if seen[f.name] {
			t.Errorf("%s declared twice", f.name)
		}
		seen[f.name] = true
	}
}

// TestEveryDropReason checks that each drop reason has its own series.
func TestEveryDropReason(t *testing.T) {
	text := scrape(t, &fakeSource{st: distinctStats()})
	var st stats.Stats
	for r := range st.Drops {
		series := `avedge_dropped_packets_total{reason="` + stats.DropReason(r).String() + `"}`
		if !strings.Contains(text, series) {
			t.Errorf("no series %s", series)
		}
		if stats.DropReason(r).String() == "unknown" {
			t.Errorf("drop reason %d has no name", r)
		}
	}
}

// TestOneReadPerScrape checks that a scrape reads the server's counters
// exactly once.
func TestOneReadPerScrape(t *testing.T) {
	src := &fakeSource{}
	for want := int64(1); want <= 3; want++ {
		scrape(t, src)
		if got := src.calls.Load(); got != want {
			t.Fatalf("after %d scrapes: Stats called %d times", want, got)
		}
	}
}

func TestNewCollectorNoServer(t *testing.T) {
	if _, err := NewCollector(Options{}); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("NewCollector without a server: %v, want ErrBadOptions", err)
	}
}

// TestRegistry checks that the admin registry serves the avedge metrics
// next to the Go runtime and process ones.
func TestRegistry(t *testing.T) {
	c, err := NewCollector(Options{Server: &fakeSource{st: distinctStats()}, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\navedge_allocations{dialect=\"rfc\",family=\"ipv4\",relay=\"udp\",tenant=\"default\",transport=\"udp\"} 600\n", "\ngo_goroutines ", "\nprocess_cpu_seconds_total "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("registry output lacks %q", want)
		}
	}
}

// TestOptionalSources checks that the credential service and records
// families are exported only with their sources.
func TestOptionalSources(t *testing.T) {
	for _, tc := range []struct {
		name           string
		opts           Options
		creds, records bool
	}{
		{"none", Options{}, false, false},
		{"credentials", Options{Credentials: fakeCredentials{}}, true, false},
		{"records", Options{Records: fakeRecords(3)}, false, true},
		{"both", Options{Credentials: fakeCredentials{}, Records: fakeRecords(3)}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Server = &fakeSource{}
			text := scrapeOptions(t, tc.opts)
			if got := strings.Contains(text, "\navedge_credential_requests_total{"); got != tc.creds {
				t.Errorf("credential requests exported: %v, want %v", got, tc.creds)
			}
			if got := strings.Contains(text, "\navedge_records_write_errors_total "); got != tc.records {
				t.Errorf("records write errors exported: %v, want %v", got, tc.records)
			}
			if got := strings.Contains(text, "\navedge_records_dropped_total "); got != tc.records {
				t.Errorf("records dropped exported: %v, want %v", got, tc.records)
			}
			if strings.Contains(text, "avedge_auth_webhook_") {
				t.Error("auth webhook metrics exported without a webhook")
			}
		})
	}
}

// TestEveryLabelValue checks that every value of the enumerated labels
// has its own, named series.
func TestEveryLabelValue(t *testing.T) {
	text := scrape(t, &fakeSource{st: distinctStats()})
	var st stats.Stats
	var series []string
	for _, tenant := range []string{"b", "default"} {
		for k := range st.AllocationsByKind {
			kind := stats.AllocationKind(k)
			labels := `{dialect="` + kind.Dialect().String() + `",family="` + kind.Family().String() + `",relay="` + kind.Relay().String() + `",tenant="` + tenant + `",transport="` + kind.Transport().String() + `"}`
			series = append(series, "avedge_allocations"+labels, "avedge_allocations_created_total"+labels)
		}
		for r := range st.AllocationsEnded {
			series = append(series, `avedge_allocations_ended_total{reason="`+stats.EndReason(r).String()+`",tenant="`+tenant+`"}`)
		}
	}
	for r := range st.Auth {
		series = append(series, `avedge_auth_results_total{result="`+stats.AuthResult(r).String()+`"}`)
	}
	for c := range st.Refusals {
		series = append(series, `avedge_refusals_total{cause="`+stats.RefusalCause(c).String()+`"}`)
	}
	var cs credsvc.Stats
	for e := range cs.Requests {
		for o := range cs.Requests[e] {
			series = append(series, `avedge_credential_requests_total{endpoint="`+credsvc.Endpoint(e).String()+
				`",outcome="`+credsvc.Outcome(o).String()+`"}`)
		}
	}
	seen := map[string]bool{}
	for _, s := range series {
		if strings.Contains(s, `"unknown"`) {
			t.Errorf("%s: a label value has no name", s)
		}
		if seen[s] {
			t.Errorf("%s: two values share a name", s)
		}
		seen[s] = true
		if !strings.Contains(text, "\n"+s+" ") {
			t.Errorf("no series %s", s)
		}
	}
}
