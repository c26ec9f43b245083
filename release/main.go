// Command release builds avedge's release artifacts into one directory:
// static binaries for every system scripts/cross-build covers, .deb and .rpm
// packages and an OCI image (a multi-architecture image layout and its
// oci-archive tarball) for linux/amd64 and linux/arm64, and SHA256SUMS over
// them. It needs no dpkg-deb, rpmbuild or container engine: the packages come
// from nfpm and the image from go-containerregistry, both as libraries.
//
// It lives in its own module so that the shipped module (the repository's
// root) keeps its dependencies small. scripts/release runs it:
//
//	scripts/release [--out DIR] [--only bin,deb,rpm,oci] [--arch amd64,arm64] [--version V]
//
// Timestamps (package files, image layer and config) are SOURCE_DATE_EPOCH,
// by default the time of the HEAD commit, so that two runs on one commit
// write the same bytes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := run(ctx, log, os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		if errors.Is(err, ErrUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run parses args and builds what they ask for.
func run(ctx context.Context, log *slog.Logger, args []string, usage io.Writer) error {
	opts, err := parseOptions(args, usage)
	if err != nil {
		return err
	}
	b, err := newBuilder(ctx, log, opts)
	if err != nil {
		return err
	}
	defer b.close()
	return b.build(ctx)
}
