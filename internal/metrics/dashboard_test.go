package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dashboardPath is the Grafana dashboard shipped with avedge.
var dashboardPath = filepath.Join("..", "..", "deploy", "grafana", "avedge-dashboard.json")

var (
	// metricName matches the avedge metric names in a PromQL expression.
	metricName = regexp.MustCompile(`\bavedge_[a-zA-Z0-9_]*`)
	// byClause matches "by (a, b)" and "without (a)" groupings.
	byClause = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	// selector matches a metric name with label matchers.
	selector = regexp.MustCompile(`\b(avedge_[a-zA-Z0-9_]*)\{([^}]*)\}`)
	// matcherLabel matches the label name of one matcher.
	matcherLabel = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
)

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"instance", "job"}

// queries returns every PromQL expression in the dashboard: the panels'
// targets and the query variables, with a description of where each is.
func queries(v any, where string, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			switch s, ok := child.(string); {
			case ok && (k == "expr" || (k == "query" && strings.Contains(s, "("))):
				out[where+"."+k] = s
			default:
				queries(child, where+"."+k, out)
			}
		}
	case []any:
		for i, child := range v {
			queries(child, where+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

// TestDashboard checks that every expression of the Grafana dashboard
// names only declared metrics, and groups and filters by their labels;
// and that every declared metric is on it.
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	declared := map[string]*family{}
	for _, f := range families {
		declared[f.name] = f
	}
	exprs := map[string]string{}
	queries(dash, "dashboard", exprs)
	if len(exprs) < 10 {
		t.Fatalf("found %d expressions in %s; is the dashboard complete?", len(exprs), dashboardPath)
	}
	used := map[string]bool{}
	for where, expr := range exprs {
		names := metricName.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s: %q names no avedge metric", where, expr)
		}
		var labels []string
		for _, n := range names {
			f, ok := declared[n]
			if !ok {
				f, ok = histogramSeries(declared, n)
			}
			if !ok {
				t.Errorf("%s: %q names %s, which the collector does not declare", where, expr, n)
				continue
			}
			used[f.name] = true
			labels = append(labels, f.labels...)
		}
		labels = append(labels, targetLabels...)
		for _, m := range byClause.FindAllStringSubmatch(expr, -1) {
			for l := range strings.SplitSeq(m[1], ",") {
				if l = strings.TrimSpace(l); !slices.Contains(labels, l) {
					t.Errorf("%s: %q groups by %q, a label none of its metrics has", where, expr, l)
				}
			}
		}
		for _, m := range selector.FindAllStringSubmatch(expr, -1) {
			f, ok := declared[m[1]]
			if !ok {
				f, ok = histogramSeries(declared, m[1])
			}
			if !ok {
				continue // reported above
			}
			for _, lm := range matcherLabel.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(f.labels, lm[1]) && !slices.Contains(targetLabels, lm[1]) {
					t.Errorf("%s: %q filters %s by %q, a label it does not have", where, expr, m[1], lm[1])
				}
			}
		}
	}
	for _, f := range families {
		if !used[f.name] {
			t.Errorf("%s is not on the dashboard", f.name)
		}
	}
}

// histogramSeries returns the histogram family whose series name is (its
// _bucket series, with the le label, its _sum or its _count).
func histogramSeries(declared map[string]*family, name string) (*family, bool) {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if f := declared[base]; ok && f != nil && f.histogram {
			if suffix == "_bucket" {
				g := *f
				g.labels = append(slices.Clone(f.labels), "le")
				return &g, true
			}
			return f, true
		}
	}
	return nil, false
}
