package allocation

import (
	"testing"
	"time"
)

func TestConfigLifetime(t *testing.T) {
	c := DefaultConfig()
	tests := []struct {
		name      string
		requested time.Duration
		present   bool
		want      time.Duration
	}{
		{"absent gives default", 0, false, 600 * time.Second},
		{"absent ignores value", 3000 * time.Second, false, 600 * time.Second},
		{"within range is granted", 1200 * time.Second, true, 1200 * time.Second},
		{"above max is capped", 86400 * time.Second, true, 3600 * time.Second},
		{"exactly max", 3600 * time.Second, true, 3600 * time.Second},
		{"below default is raised", 30 * time.Second, true, 600 * time.Second},
		{"zero is raised (caller handles refresh 0)", 0, true, 600 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Lifetime(tt.requested, tt.present); got != tt.want {
				t.Errorf("Lifetime(%v, %v) = %v, want %v", tt.requested, tt.present, got, tt.want)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	want := Config{600 * time.Second, 3600 * time.Second, 300 * time.Second, 600 * time.Second, 64, 64, false}
	if got := DefaultConfig(); got != want {
		t.Fatalf("DefaultConfig() = %+v, want %+v", got, want)
	}
}

func TestNewTableFillsZeroConfig(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"zero config", Config{}, DefaultConfig()},
		{"negative fields", Config{-1, -1, -1, -1, -1, -1, false}, DefaultConfig()},
		{"explicit kept", Config{time.Minute, time.Hour, 2 * time.Minute, 3 * time.Minute, 2, 3, true},
			Config{time.Minute, time.Hour, 2 * time.Minute, 3 * time.Minute, 2, 3, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewTable(tt.in).cfg; got != tt.want {
				t.Errorf("NewTable(%+v).cfg = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}
