package config

import (
	"strconv"
	"strings"
)

// suggest explains an unknown key: the closest known key when one is a
// likely typo, else the list of known keys.
func suggest(name string, fields []field) string {
	best, bestDist := "", len(name)
	for _, f := range fields {
		if d := editDistance(name, f.name); d < bestDist {
			best, bestDist = f.name, d
		}
	}
	limit := 2
	if len(name) <= 3 {
		limit = 1
	}
	if best != "" && bestDist <= limit {
		return "did you mean " + strconv.Quote(best) + "?"
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return "known keys: " + strings.Join(names, ", ")
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes each cost one.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
