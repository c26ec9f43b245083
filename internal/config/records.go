package config

import (
	"os"
	"path/filepath"
)

// Records configures session records: one JSON line per ended allocation.
type Records struct {
	// Output is where records go: RecordsStdout, or the absolute path of
	// a file to append to (a relative path in the configuration file is
	// resolved against the file's directory). Empty turns records off.
	Output string `json:"output"`
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
	})
	return err
}

// recordsOutput decodes records.output: "stdout", or a file that is a
// regular file or does not exist yet, in a directory that exists.
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
