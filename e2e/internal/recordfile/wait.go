package recordfile

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// Line is the part of a session record that the tests read.
type Line struct {
	Kind          string `json:"kind"`
	Client        string `json:"client"`
	Relayed       string `json:"relayed"`
	Transport     string `json:"transport"`
	ToPeerBytes   uint64 `json:"to_peer_bytes"`
	ToClientBytes uint64 `json:"to_client_bytes"`
}

// WaitEnd waits until the records file at path holds end records that done
// accepts, and returns them, all the file's end records in order; it fails
// the test after limit. The edge appends an end record when an allocation
// ends, a moment after its client leaves, and signals nothing else: it
// polls.
func WaitEnd(t testing.TB, path string, done func([]Line) bool, limit time.Duration) []Line {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, _ := os.ReadFile(path)
		var ends []Line
		for line := range strings.Lines(string(b)) {
			var r Line
			if json.Unmarshal([]byte(line), &r) == nil && r.Kind == "end" {
				ends = append(ends, r)
			}
		}
		if done(ends) {
			return ends
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no wanted end records after %v: %q", path, limit, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
