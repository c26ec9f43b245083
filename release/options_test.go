package main

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
)

// TestParseOptions: --only and --arch select, relative --out is taken from
// the repository, and mistakes are usage errors.
func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"--repo", "/src/avedge", "--only", "deb,oci,deb", "--arch", "arm64", "--version", "1.2.0-rc.1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.kinds, []string{"deb", "oci"}) || !slices.Equal(o.arches, []string{"arm64"}) || o.version != "1.2.0-rc.1" {
		t.Errorf("options %+v", o)
	}
	if o.out != filepath.Join("/src/avedge", "dist") || !o.wants(kindOCI) || o.wants(kindBin) {
		t.Errorf("options %+v", o)
	}
	for _, args := range [][]string{
		{"--only", "deb,snap"}, {"--arch", "386"}, {"--version", "v1.2"}, {"extra"}, {"--nope"},
	} {
		if _, err := parseOptions(args, io.Discard); !errors.Is(err, ErrUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
