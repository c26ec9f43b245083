package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Records configures session records: one JSON line per ended allocation.
type Records struct {
	// Output is where records go: RecordsStdout, or the absolute path of
	// a file to append to (a relative path in the configuration file is
	// resolved against the file's directory). Empty turns records off.
	Output string `json:"output"`
	// Interim is how often a live allocation older than it gets a
	// record of kind "interim" with its totals so far; 0 turns interim
	// records off.
	Interim time.Duration `json:"-"`
}

// Limits of records.interim.
const (
	minRecordsInterim = time.Minute
	maxRecordsInterim = 24 * time.Hour
)

// MarshalJSON writes r with the interval as a duration string.
func (r Records) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Output  string `json:"output"`
		Interim string `json:"interim"`
	}{r.Output, formatDuration(r.Interim)})
}

// RecordsStdout is the Records.Output that writes records to standard
// output.
const RecordsStdout = "stdout"

// defaultRecords returns the records defaults: off.
func defaultRecords() Records { return Records{} }

// records decodes the records section.
func (p *parser) records(e entry, dst *Records) error {
	_, err := p.mapping(e, []field{
		{"output", func(e entry) error { return p.recordsOutput(e, &dst.Output) }},
		{"interim", func(e entry) error {
			d, err := p.duration(e, minRecordsInterim, maxRecordsInterim)
			dst.Interim = d
			return err
		}},
	})
	return err
}

// recordsOutput decodes records.output: "stdout", or a file (see
// stateFile).
func (p *parser) recordsOutput(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	switch s {
	case "":
		return p.fail(e, "must not be empty (write %q or a file path; leave the key out to turn records off)", RecordsStdout)
	case RecordsStdout:
		*dst = s
		return nil
	}
	return p.writablePath(e, s, dst)
}

// stateFile decodes the path of a file the edge writes: a regular file or
// one that does not exist yet, in a directory that exists; a relative
// path is resolved against the configuration file's directory.
func (p *parser) stateFile(e entry, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	if s == "" {
		return p.fail(e, "must not be empty (leave the key out for the default)")
	}
	return p.writablePath(e, s, dst)
}

// writablePath checks s for stateFile and stores its absolute path in dst.
func (p *parser) writablePath(e entry, s string, dst *string) error {
	if !filepath.IsAbs(s) {
		s = filepath.Join(p.dir, s)
	}
	info, err := os.Stat(s)
	switch {
	case err == nil && info.IsDir():
		return p.fail(e, "%q is a directory; name a file in it", s)
	case err == nil && !info.Mode().IsRegular():
		return p.fail(e, "%q is not a regular file", s)
	case err == nil:
	case os.IsNotExist(err):
		dir := filepath.Dir(s)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return p.fail(e, "directory %q does not exist", dir)
		}
	default:
		return p.fail(e, "cannot use %q: %s", s, unwrapPath(err))
	}
	*dst = s
	return nil
}
