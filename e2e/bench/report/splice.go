package main

import (
	"bytes"
)

// The scripts whose sections the report writes.
const (
	sectionCompare = "compare"
	sectionNetns   = "netns"
)

// markers returns the HTML comments that delimit the section a script
// (e2e/bench/SCRIPT) generates.
func markers(script string) (begin, end string) {
	return "<!-- e2e/bench/" + script + ":begin -->", "<!-- e2e/bench/" + script + ":end -->"
}

// splice puts section between script's markers in page, replacing what was
// there. Without them, a netns section goes after the compare section's end
// marker; otherwise (or without that either) the section goes before the
// page's first "## " heading (after the introduction), or at the end.
func splice(page []byte, section, script string) []byte {
	begin, end := markers(script)
	gen := begin + "\n" + section + end + "\n"
	if i := bytes.Index(page, []byte(begin)); i >= 0 {
		if j := bytes.Index(page[i:], []byte(end)); j >= 0 {
			rest := page[i+j+len(end):]
			rest = bytes.TrimPrefix(rest, []byte("\n"))
			return concat(page[:i], []byte(gen), rest)
		}
	}
	if script != sectionCompare {
		_, compareEnd := markers(sectionCompare)
		if i := bytes.Index(page, []byte(compareEnd+"\n")); i >= 0 {
			at := i + len(compareEnd) + 1
			return concat(page[:at], []byte("\n"+gen), page[at:])
		}
	}
	if i := bytes.Index(page, []byte("\n## ")); i >= 0 {
		return concat(page[:i+1], []byte(gen+"\n"), page[i+1:])
	}
	if len(page) > 0 && !bytes.HasSuffix(page, []byte("\n")) {
		page = append(page, '\n')
	}
	return concat(page, []byte(gen))
}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
