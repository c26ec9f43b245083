package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// binaries builds avedge for every system of binaryOSes on each asked
// architecture into the output directory, as
// avedge-<version>-<os>-<arch>[.exe].
func (b *builder) binaries(ctx context.Context) error {
	for _, goos := range binaryOSes {
		for _, arch := range b.opts.arches {
			name := fmt.Sprintf("avedge-%s-%s-%s", b.version, goos, arch)
			if goos == "windows" {
				name += ".exe"
			}
			if err := b.goBuild(ctx, goos, arch, filepath.Join(b.opts.out, name)); err != nil {
				return err
			}
			b.artifacts = append(b.artifacts, name)
		}
	}
	return nil
}

// linuxBinary returns the path of the linux binary for arch: the one in
// the output directory when binaries were built, else one built into the
// work directory.
func (b *builder) linuxBinary(ctx context.Context, arch string) (string, error) {
	if b.opts.wants(kindBin) {
		return filepath.Join(b.opts.out, fmt.Sprintf("avedge-%s-linux-%s", b.version, arch)), nil
	}
	path := filepath.Join(b.work, "bin", "linux-"+arch, "avedge")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	return path, b.goBuild(ctx, "linux", arch, path)
}

// goBuild builds ./cmd/avedge for goos/arch into dst: static
// (CGO_ENABLED=0), without local paths (-trimpath) or symbol tables, with
// the version stamped (main.version) and no build ID, so that one commit
// gives the same bytes.
func (b *builder) goBuild(ctx context.Context, goos, arch, dst string) error {
	b.log.Info("go build", "os", goos, "arch", arch, "out", dst)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -buildid= -X main.version="+b.version,
		"-o", dst, "./cmd/avedge")
	cmd.Dir = b.opts.repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s/%s: %w", goos, arch, err)
	}
	return nil
}
