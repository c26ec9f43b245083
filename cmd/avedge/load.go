package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/avedge/avedge/internal/config"
)

// loadConfig reads the configuration file, or returns the development edge
// defaults (creating the development secret on first use) when path is empty.
func loadConfig(path string) (*config.Config, error) {
	if path != "" {
		return config.Load(path)
	}
	dir, err := config.DefaultStateDir()
	if err != nil {
		return nil, err
	}
	return config.Development(dir)
}

// newLogger builds the slog logger of the process.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}
