// Command report turns the JSON lines that e2e/bench/compare collects into
// docs/benchmarks.md (tables of medians and min–max spreads per server and
// load, ratios to coturn, the machine and the exact commands) and a bar-chart
// PNG. The hand-written parts of the page (the micro-benchmarks) are kept:
// the generated section lives between two HTML comment markers. With
// --section netns it writes e2e/bench/netns's section instead (the eBPF
// offload in network namespaces, with issue #21's targets), between its own
// markers, and no plot.
//
// Usage:
//
//	report --in results.jsonl --doc docs/benchmarks.md --png docs/benchmarks.png
//	report --section netns --in results.jsonl --doc docs/benchmarks.md
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrUsage reports bad command-line arguments.
var ErrUsage = errors.New("report: usage")

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run reads the results, renders the section and the plot, and writes both.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "JSON lines written by e2e/bench/compare (required)")
	doc := fs.String("doc", "docs/benchmarks.md", "Markdown page to update")
	png := fs.String("png", "docs/benchmarks.png", "plot to write (compare only)")
	section := fs.String("section", sectionCompare, "the script whose section to write: compare or netns")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if *in == "" {
		return fmt.Errorf("%w: --in is required", ErrUsage)
	}
	if *section != sectionCompare && *section != sectionNetns {
		return fmt.Errorf("%w: --section %q: want compare or netns", ErrUsage, *section)
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	res, err := readResults(f)
	if err != nil {
		return err
	}
	page, err := os.ReadFile(*doc)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("report: %w", err)
	}
	if *section == sectionNetns {
		return writePage(*doc, splice(page, renderNetns(res, describeMachine()), sectionNetns))
	}
	if err := writePage(*doc, splice(page, renderMarkdown(res, describeMachine(), filepath.Base(*png)), sectionCompare)); err != nil {
		return err
	}
	out, err := os.Create(*png)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writePlot(out, res); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// writePage writes the updated page.
func writePage(path string, page []byte) error {
	if err := os.WriteFile(path, page, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
