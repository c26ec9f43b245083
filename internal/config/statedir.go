package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultStateDir returns where avedge keeps its state, such as the
// development secret and the revocations file: $STATE_DIRECTORY (the
// directory systemd's StateDirectory= made for the service; the first of
// a colon-separated list) when it holds an absolute path, else
// $XDG_STATE_HOME/avedge when that variable does, else
// ~/.local/state/avedge.
func DefaultStateDir() (string, error) {
	if d, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "avedge"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("config: state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "avedge"), nil
}
