package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// entry is one value being decoded: its dotted key path, the node its errors
// point at (the key of a mapping entry, or the item of a list) and the value.
type entry struct {
	path string
	at   *yaml.Node
	val  *yaml.Node
}

// child returns the path of key name below path.
func child(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// field is one key a mapping accepts and how to decode its value.
type field struct {
	name   string
	decode func(e entry) error
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty or explicit null value.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the YAML type of n for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	case "!!timestamp":
		return "a timestamp"
	}
	return "a " + n.ShortTag() + " value"
}

// fail returns an *Error pointing at e.
func (p *parser) fail(e entry, format string, args ...any) error {
	return p.failAt(e.at, e.path, format, args...)
}

// failAt returns an *Error for key at the position of node at.
func (p *parser) failAt(at *yaml.Node, key, format string, args ...any) error {
	return &Error{File: p.file, Line: at.Line, Column: at.Column, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// mapping decodes the mapping in e: in document order it rejects duplicate
// and unknown keys, rejects the second key of each exclusive pair found, and
// calls the decoder of each known key. A null value is an empty mapping. It
// returns the entries found by key name, so that callers can check required
// keys.
func (p *parser) mapping(e entry, fields []field, exclusive ...[2]string) (map[string]entry, error) {
	v := resolve(e.val)
	seen := make(map[string]entry)
	if isNull(v) {
		return seen, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, p.fail(e, "expected a mapping, got %s", describe(v))
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := resolve(v.Content[i])
		sub := entry{path: child(e.path, k.Value), at: k, val: v.Content[i+1]}
		if prev, dup := seen[k.Value]; dup {
			return nil, p.fail(sub, "duplicate key (first defined at line %d)", prev.at.Line)
		}
		f, ok := lookup(fields, k.Value)
		if !ok {
			return nil, p.fail(sub, "unknown key (%s)", suggest(k.Value, fields))
		}
		for _, pair := range exclusive {
			// k.Value is not in seen yet, so a seen member is the other one.
			_, first := seen[pair[0]]
			_, second := seen[pair[1]]
			if (k.Value == pair[0] || k.Value == pair[1]) && (first || second) {
				return nil, p.fail(sub, "%s and %s are mutually exclusive", pair[0], pair[1])
			}
		}
		seen[k.Value] = sub
		p.at[sub.path] = sub
		if err := f.decode(sub); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// lookup finds the field called name.
func lookup(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// require fails for the first of names that seen lacks, pointing at the
// mapping e.
func (p *parser) require(e entry, seen map[string]entry, names ...string) error {
	for _, name := range names {
		if _, ok := seen[name]; !ok {
			return p.failAt(e.at, child(e.path, name), "required")
		}
	}
	return nil
}

// list returns the items of the list in e; a null value is an empty list.
func (p *parser) list(e entry) ([]entry, error) {
	v := resolve(e.val)
	if isNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, p.fail(e, "expected a list, got %s", describe(v))
	}
	items := make([]entry, len(v.Content))
	for i, n := range v.Content {
		items[i] = entry{path: fmt.Sprintf("%s[%d]", e.path, i), at: n, val: n}
	}
	return items, nil
}

// scalar returns the scalar node in e, failing when e holds something else
// or nothing. want names the expected type.
func (p *parser) scalar(e entry, want string) (*yaml.Node, error) {
	v := resolve(e.val)
	switch {
	case isNull(v):
		return nil, p.fail(e, "missing value (expected %s)", want)
	case v.Kind != yaml.ScalarNode:
		return nil, p.fail(e, "expected %s, got %s", want, describe(v))
	}
	return v, nil
}

// str returns the string in e, with ${NAME} references expanded (see
// expand). Other scalar types are errors (quoting the value makes it a
// string); the value itself is never echoed, since it may be a secret.
func (p *parser) str(e entry) (string, error) {
	s, err := p.literal(e)
	if err != nil || !strings.Contains(s, "${") {
		return s, err
	}
	return p.expand(e, s)
}

// literal returns the string in e as written, without expansion: the
// reading of inline secrets and passwords, which may contain "${" and
// whose fragments must not reach an error message.
func (p *parser) literal(e entry) (string, error) {
	v, err := p.scalar(e, "a string")
	if err != nil {
		return "", err
	}
	if v.ShortTag() != "!!str" {
		return "", p.fail(e, "expected a string, got %s (quote the value)", describe(v))
	}
	return v.Value, nil
}

// integer returns the integer in e, which must lie in [lo, hi].
func (p *parser) integer(e entry, lo, hi int) (int, error) {
	v, err := p.scalar(e, "an integer")
	if err != nil {
		return 0, err
	}
	var n int
	if v.ShortTag() != "!!int" || v.Decode(&n) != nil {
		return 0, p.fail(e, "%q: expected an integer", v.Value)
	}
	switch {
	case n >= lo && n <= hi:
		return n, nil
	case hi == math.MaxInt:
		return 0, p.fail(e, "%d: must be at least %d", n, lo)
	default:
		return 0, p.fail(e, "%d: must be between %d and %d", n, lo, hi)
	}
}

// boolean returns the true or false in e.
func (p *parser) boolean(e entry) (bool, error) {
	v, err := p.scalar(e, "true or false")
	if err != nil {
		return false, err
	}
	var b bool
	if v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		return false, p.fail(e, "%q: expected true or false", v.Value)
	}
	return b, nil
}

// duration returns the Go duration string in e, which must lie in [lo, hi].
// A bare number is an error: its unit would be a guess.
func (p *parser) duration(e entry, lo, hi time.Duration) (time.Duration, error) {
	v, err := p.scalar(e, "a duration")
	if err != nil {
		return 0, err
	}
	switch v.ShortTag() {
	case "!!int", "!!float":
		return 0, p.fail(e, "%s: number without a unit (write e.g. \"%ss\" or \"10m\")", v.Value, v.Value)
	case "!!str":
	default:
		return 0, p.fail(e, "expected a duration such as \"10m\", got %s", describe(v))
	}
	d, err := time.ParseDuration(v.Value)
	if err != nil {
		return 0, p.fail(e, "%q: not a duration (write e.g. \"600s\", \"10m\" or \"1h30m\")", v.Value)
	}
	if d < lo || d > hi {
		return 0, p.fail(e, "%q: must be between %s and %s", v.Value, formatDuration(lo), formatDuration(hi))
	}
	return d, nil
}

// oneOf decodes a string that must be one of choices.
func (p *parser) oneOf(e entry, choices []string, dst *string) error {
	s, err := p.str(e)
	if err != nil {
		return err
	}
	if !slices.Contains(choices, s) {
		return p.fail(e, "%q: must be one of %s", s, quoteList(choices))
	}
	*dst = s
	return nil
}

// quoteList writes choices as `"a", "b" or "c"`.
func quoteList(choices []string) string {
	var b strings.Builder
	for i, c := range choices {
		switch {
		case i == 0:
		case i == len(choices)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(c))
	}
	return b.String()
}

// number returns the positive number (integer or decimal) in e, at most hi.
func (p *parser) number(e entry, hi float64) (float64, error) {
	v, err := p.scalar(e, "a number")
	if err != nil {
		return 0, err
	}
	var f float64
	if (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || v.Decode(&f) != nil {
		return 0, p.fail(e, "%q: expected a number", v.Value)
	}
	if !(f > 0 && f <= hi) {
		return 0, p.fail(e, "%s: must be above 0 and at most %g", v.Value, hi)
	}
	return f, nil
}
