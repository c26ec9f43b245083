package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ErrUsage marks a command line that release refuses.
var ErrUsage = errors.New("usage")

// Artifact kinds that --only selects.
const (
	kindBin = "bin"
	kindDeb = "deb"
	kindRPM = "rpm"
	kindOCI = "oci"
)

// allKinds are the artifact kinds, in the order they are built.
var allKinds = []string{kindBin, kindDeb, kindRPM, kindOCI}

// allArches are the architectures release builds for.
var allArches = []string{"amd64", "arm64"}

// binaryOSes are the systems binaries are built for, as in
// scripts/cross-build; packages and images are for linux only.
var binaryOSes = []string{"linux", "darwin", "windows", "freebsd"}

// versionPattern is what --version accepts: a semantic version without
// the leading v, such as 1.2.0 or 0.0.0-git20261201.1a2b3c4.
var versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$`)

// options is the command line of release.
type options struct {
	// repo is the repository's root.
	repo string
	// out is the directory the artifacts go to.
	out string
	// kinds and arches are what to build.
	kinds, arches []string
	// version is stamped into the binaries and names the packages; empty:
	// from git.
	version string
}

// parseOptions parses the command line; relative paths are taken from the
// repository's root.
func parseOptions(args []string, usage io.Writer) (options, error) {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(usage)
	var o options
	var only, arch string
	fs.StringVar(&o.repo, "repo", ".", "the repository's root")
	fs.StringVar(&o.out, "out", "dist", "output directory, relative to the repository's root unless absolute")
	fs.StringVar(&only, "only", strings.Join(allKinds, ","), "artifacts to build, comma-separated: "+strings.Join(allKinds, ", "))
	fs.StringVar(&arch, "arch", strings.Join(allArches, ","), "architectures, comma-separated: "+strings.Join(allArches, ", "))
	fs.StringVar(&o.version, "version", "", "version, such as 1.2.0 (default: the v-tag of HEAD, else 0.0.0-git<date>.<commit>)")
	fs.Usage = func() {
		fmt.Fprintln(usage, "usage: scripts/release [--out DIR] [--only KINDS] [--arch ARCHES] [--version V]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	var err error
	if o.kinds, err = list("--only", only, allKinds); err != nil {
		return o, err
	}
	if o.arches, err = list("--arch", arch, allArches); err != nil {
		return o, err
	}
	if o.version != "" && !versionPattern.MatchString(o.version) {
		return o, fmt.Errorf("%w: --version %q is not a version such as 1.2.0 or 1.2.0-rc.1", ErrUsage, o.version)
	}
	if o.repo, err = filepath.Abs(o.repo); err != nil {
		return o, fmt.Errorf("repository: %w", err)
	}
	if !filepath.IsAbs(o.out) {
		o.out = filepath.Join(o.repo, o.out)
	}
	return o, nil
}

// list splits a comma-separated flag value, each item one of allowed.
func list(flagName, value string, allowed []string) ([]string, error) {
	var items []string
	for item := range strings.SplitSeq(value, ",") {
		item = strings.TrimSpace(item)
		if !slices.Contains(allowed, item) {
			return nil, fmt.Errorf("%w: %s: %q is not one of %s", ErrUsage, flagName, item, strings.Join(allowed, ", "))
		}
		if !slices.Contains(items, item) {
			items = append(items, item)
		}
	}
	return items, nil
}

// wants reports whether the artifacts of kind are to be built.
func (o options) wants(kind string) bool { return slices.Contains(o.kinds, kind) }
