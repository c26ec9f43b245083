package edge

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
)

func TestUnreservedEphemeral(t *testing.T) {
	for _, tc := range []struct {
		rng, reserved string
		first, last   int
		want          int
	}{
		{"32768\t60999\n", "\n", 50000, 59999, 10000},        // Linux's default: all of it
		{"32768\t60999\n", "50000-59999\n", 50000, 59999, 0}, // reserved
		{"32768\t60999\n", "8080,50000-54999\n", 50000, 59999, 5000},
		{"32768\t49999\n", "\n", 50000, 59999, 0},      // a smaller ephemeral range
		{"32768\t60999\n", "\n", 61000, 62000, 0},      // above it
		{"32768\t60999\n", "59999\n", 59990, 59999, 9}, // a single reserved port
	} {
		got, err := unreservedEphemeral(tc.rng, tc.reserved, tc.first, tc.last)
		if err != nil || got != tc.want {
			t.Errorf("unreservedEphemeral(%q, %q, %d, %d) = %d, %v; want %d", tc.rng, tc.reserved, tc.first, tc.last, got, err, tc.want)
		}
	}
	for _, bad := range [][2]string{{"32768", ""}, {"a b", ""}, {"1 2", "x-3"}} {
		if _, err := unreservedEphemeral(bad[0], bad[1], 1, 2); err == nil {
			t.Errorf("unreservedEphemeral(%q, %q): no error", bad[0], bad[1])
		}
	}
}

// TestWarnEphemeral: the warning names the range and the remedy when the
// relay ports are not reserved, and nothing is logged when they are or
// the sysctls do not exist.
func TestWarnEphemeral(t *testing.T) {
	files := func(rng, reserved string) func(string) ([]byte, error) {
		return func(name string) ([]byte, error) {
			switch name {
			case portRangeFile:
				return []byte(rng), nil
			case reservedPortsFile:
				return []byte(reserved), nil
			}
			return nil, fs.ErrNotExist
		}
	}
	missing := func(string) ([]byte, error) { return nil, errors.New("no such file") }
	for _, tc := range []struct {
		read func(string) ([]byte, error)
		want string
	}{
		{files("32768\t60999\n", "\n"), "net.ipv4.ip_local_reserved_ports=50000-59999"},
		{files("32768\t60999\n", "50000-59999\n"), ""},
		{missing, ""},
	} {
		var logs bytes.Buffer
		warnEphemeral(slog.New(slog.NewTextHandler(&logs, nil)), 50000, 59999, tc.read)
		if got := logs.String(); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("logs %q, want one containing %q", got, tc.want)
		}
	}
}
