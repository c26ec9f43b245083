package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the outcome of a probe: the checks in the order they ran.
type Report struct {
	// Target names what was probed: the URIs, separated by spaces.
	Target string
	// Started is when the probe began.
	Started time.Time
	// Checks are the results in order.
	Checks []Result
}

// Count returns the number of checks with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return r.Count(Fail) == 0 }

// Summary is the report's last line, such as
// "FAIL: 1 failed, 2 warned, 5 passed, 1 skipped".
func (r *Report) Summary() string {
	verdict := "OK"
	if !r.OK() {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s: %d failed, %d warned, %d passed, %d skipped",
		verdict, r.Count(Fail), r.Count(Warn), r.Count(Pass), r.Count(Skip))
}

// WriteText writes the readable report: a header, one line per check
// (status, name, detail, duration), an indented remedy line under each
// failure or warning that has one, and the summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "avedge probe %s (started %s)\n", r.Target, r.Started.UTC().Format(time.RFC3339))
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s [%s]\n", strings.ToUpper(c.Status.String()), width, c.Name, c.Detail, formatDuration(c.Duration))
		if c.Remedy != "" && (c.Status == Fail || c.Status == Warn) {
			fmt.Fprintf(&b, "      remedy: %s\n", c.Remedy)
		}
	}
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonReport and jsonResult are the JSON shapes of a Report and a Result.
type jsonReport struct {
	Target  string       `json:"target"`
	Started time.Time    `json:"started"`
	Checks  []jsonResult `json:"checks"`
	OK      bool         `json:"ok"`
}

type jsonResult struct {
	Name     string `json:"name"`
	Status   Status `json:"status"`
	Detail   string `json:"detail"`
	Remedy   string `json:"remedy"`
	Duration string `json:"duration"`
}

// WriteJSON writes the report as one indented JSON object
// {target, started, checks: [{name, status, detail, remedy, duration}], ok};
// a duration is a Go duration string such as "1.5ms".
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Target: r.Target, Started: r.Started.UTC(), Checks: make([]jsonResult, 0, len(r.Checks)), OK: r.OK()}
	for _, c := range r.Checks {
		out.Checks = append(out.Checks, jsonResult{Name: c.Name, Status: c.Status, Detail: c.Detail, Remedy: c.Remedy,
			Duration: formatDuration(c.Duration)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("probe: write report: %w", err)
	}
	return nil
}

// formatDuration rounds d for reading: to the microsecond below a
// millisecond, to 10µs below a second, to the millisecond above.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}
