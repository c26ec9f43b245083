package main

import (
	"bytes"
)

// Markers delimit the generated section of the page.
const (
	beginMarker = "<!-- e2e/bench/compare:begin -->"
	endMarker   = "<!-- e2e/bench/compare:end -->"
)

// splice puts section between the markers of page, replacing what was there.
// Without markers it inserts the section before the page's first "## "
// heading (after the introduction), or at the end.
func splice(page []byte, section string) []byte {
	gen := beginMarker + "\n" + section + endMarker + "\n"
	if i := bytes.Index(page, []byte(beginMarker)); i >= 0 {
		if j := bytes.Index(page[i:], []byte(endMarker)); j >= 0 {
			rest := page[i+j+len(endMarker):]
			rest = bytes.TrimPrefix(rest, []byte("\n"))
			return concat(page[:i], []byte(gen), rest)
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
