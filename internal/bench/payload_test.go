package bench

import (
	"errors"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	b := make([]byte, payloadHeader+5)
	putPayload(b, 0xdeadbeef, 42, 123456789)
	id, seq, ts, ok := parsePayload(b)
	if !ok || id != 0xdeadbeef || seq != 42 || ts != 123456789 {
		t.Errorf("= %x %d %d %v", id, seq, ts, ok)
	}
	if b[0] != 0xde || b[3] != 0xef {
		t.Errorf("call id is not first, big-endian: % x", b[:4])
	}
	if _, _, _, ok := parsePayload(b[:payloadHeader-1]); ok {
		t.Error("short payload parsed")
	}
}

func TestConfigValidate(t *testing.T) {
	good := shortConfig(ModeAudio, freePort(t))
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"unknown mode", func(c *Config) { c.Mode = "bogus" }},
		{"unknown arrivals", func(c *Config) { c.Arrivals = "bursty" }},
		{"no credentials", func(c *Config) { c.Secret = "" }},
		{"churn raw", func(c *Config) { c.Mode, c.Raw = ModeChurn, true }},
		{"zero duration", func(c *Config) { c.Duration = 0 }},
		{"no calls", func(c *Config) { c.Calls = 0 }},
		{"tiny size", func(c *Config) { c.Size = 4 }},
		{"zero pps", func(c *Config) { c.PPS = 0 }},
		{"negative rate", func(c *Config) { c.Mode, c.Rate = ModeFlood, -1 }},
		{"zero frame interval", func(c *Config) { c.Mode, c.FrameInterval = ModeVideo, 0 }},
	}
	if err := good.validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mod(&c)
			if err := c.validate(); !errors.Is(err, ErrConfig) {
				t.Errorf("validate = %v, want ErrConfig", err)
			}
		})
	}
}
