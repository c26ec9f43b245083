package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultStateDir returns where avedge keeps its state, such as the
// development secret: $XDG_STATE_HOME/avedge when that variable holds an
// absolute path, else ~/.local/state/avedge.
func DefaultStateDir() (string, error) {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "avedge"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("config: state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "avedge"), nil
}
