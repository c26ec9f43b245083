package config

import (
	"testing"
	"time"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"relay", "relay", 0},
		{"relya", "relay", 1},  // transposition
		{"rely", "relay", 1},   // insertion
		{"relays", "relay", 1}, // deletion
		{"ralay", "relay", 1},  // substitution
		{"", "log", 3},
		{"quotas", "peers", 5},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	fields := []field{{name: "format"}, {name: "level"}, {name: "id"}}
	tests := []struct {
		name, want string
	}{
		{"levle", `did you mean "level"?`},
		{"formats", `did you mean "format"?`},
		{"ip", `did you mean "id"?`},
		{"xy", "known keys: format, level, id"},     // short keys allow one edit only
		{"colour", "known keys: format, level, id"}, // nothing close
	}
	for _, tt := range tests {
		if got := suggest(tt.name, fields); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "30s"},
		{10 * time.Minute, "10m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + 30*time.Second, "1h0m30s"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
