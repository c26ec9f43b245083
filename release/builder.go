package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// builder builds the artifacts options ask for.
type builder struct {
	opts options
	log  *slog.Logger
	// version is stamped into the binaries and names the artifacts.
	version string
	// date is the time stamped into packages and the image.
	date time.Time
	// work is a temporary directory for intermediate files.
	work string
	// artifacts are the files written to opts.out so far, by name.
	artifacts []string
}

// newBuilder works out the version and date and makes the directories.
func newBuilder(ctx context.Context, log *slog.Logger, opts options) (*builder, error) {
	date, err := sourceDate(ctx, opts.repo)
	if err != nil {
		return nil, err
	}
	version := opts.version
	if version == "" {
		if version, err = gitVersion(ctx, opts.repo, date); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(opts.out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	work, err := os.MkdirTemp("", "avedge-release-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	return &builder{opts: opts, log: log, version: version, date: date, work: work}, nil
}

// close removes the work directory.
func (b *builder) close() {
	if err := os.RemoveAll(b.work); err != nil {
		b.log.Warn("work directory not removed", "dir", b.work, "err", err)
	}
}

// build builds every artifact asked for, then SHA256SUMS over them.
func (b *builder) build(ctx context.Context) error {
	b.log.Info("release", "version", b.version, "date", b.date.Format(time.RFC3339), "out", b.opts.out,
		"only", b.opts.kinds, "arch", b.opts.arches)
	if b.opts.wants(kindBin) {
		if err := b.binaries(ctx); err != nil {
			return err
		}
	}
	for _, arch := range b.opts.arches {
		for _, format := range []string{kindDeb, kindRPM} {
			if b.opts.wants(format) {
				if err := b.linuxPackage(ctx, format, arch); err != nil {
					return err
				}
			}
		}
	}
	if b.opts.wants(kindOCI) {
		if err := b.image(ctx); err != nil {
			return err
		}
	}
	return b.writeSums()
}
