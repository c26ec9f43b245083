package config

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with the .golden file next to the .yaml file at path,
// or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	want := strings.TrimSuffix(path, ".yaml") + ".golden"
	if *update {
		if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(b) != got {
		t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", path, want, got, b)
	}
}

// dump is the golden form of a valid configuration: its redacted JSON and
// its warnings.
func dump(t *testing.T, c *Config) string {
	t.Helper()
	b, err := json.MarshalIndent(struct {
		Config   *Config  `json:"config"`
		Warnings []string `json:"warnings"`
	}{c, c.Warnings()}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s: %v", dir, err)
	}
	return files
}

func TestGoldenValid(t *testing.T) {
	dir := filepath.Join("testdata", "valid")
	for _, path := range yamlFiles(t, dir) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(filepath.Base(path), dir, data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := dump(t, c)
			if strings.Contains(got, "0123456789abcdef") || strings.Contains(got, "wonderland") {
				t.Errorf("dump leaks a secret:\n%s", got)
			}
			golden(t, path, got)
		})
	}
}

func TestGoldenInvalid(t *testing.T) {
	dir := filepath.Join("testdata", "invalid")
	for _, path := range yamlFiles(t, dir) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(filepath.Base(path), dir, data)
			if err == nil {
				t.Fatalf("Parse succeeded:\n%s", c)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != filepath.Base(path) {
				t.Errorf("error %v is not an *Error naming %s", err, filepath.Base(path))
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error leaks a secret: %v", err)
			}
			golden(t, path, err.Error()+"\n")
		})
	}
}
