package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// refNameAnnotation names an image in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// image writes the OCI image for the asked architectures: an image layout
// avedge-<version>-oci/ whose index.json names (by the version) one image
// index with an image per architecture, and the same layout as the
// oci-archive tarball avedge-<version>-oci.tar (podman run
// oci-archive:FILE, skopeo copy).
func (b *builder) image(ctx context.Context) error {
	var adds []mutate.IndexAddendum
	for _, arch := range b.opts.arches {
		img, err := b.archImage(ctx, arch)
		if err != nil {
			return err
		}
		platform := &v1.Platform{OS: "linux", Architecture: arch}
		if arch == "arm64" {
			platform.Variant = "v8"
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platform}})
	}
	index := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	name := fmt.Sprintf("avedge-%s-oci", b.version)
	dir := filepath.Join(b.opts.out, name)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("image layout: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image layout: %w", err)
	}
	if err := p.AppendIndex(index, layout.WithAnnotations(map[string]string{refNameAnnotation: b.version})); err != nil {
		return fmt.Errorf("image layout: %w", err)
	}
	b.log.Info("wrote", "image layout", name)
	if err := tarDir(dir, filepath.Join(b.opts.out, name+".tar"), b.date); err != nil {
		return err
	}
	b.log.Info("wrote", "oci-archive", name+".tar")
	b.artifacts = append(b.artifacts, name+".tar")
	return nil
}

// archImage builds the image for linux/arch: FROM scratch, one layer
// (imageLayerTar), run as 65532:65532.
func (b *builder) archImage(ctx context.Context, arch string) (v1.Image, error) {
	binary, err := b.linuxBinary(ctx, arch)
	if err != nil {
		return nil, err
	}
	data, err := imageLayerTar(binary, filepath.Join(b.opts.repo, "configs", imageConfigSample), b.date)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	created := v1.Time{Time: b.date}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: created, CreatedBy: "scripts/release", Comment: "avedge " + b.version},
	})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = arch
	if arch == "arm64" {
		cf.Variant = "v8"
	}
	cf.Created = created
	cf.Config = v1.Config{
		Entrypoint: []string{pkgBinary},
		Cmd:        []string{"serve", "--config", imageConfig},
		User:       fmt.Sprintf("%d:%d", imageUID, imageUID),
		Env:        []string{"STATE_DIRECTORY=" + imageStateDir},
		WorkingDir: imageStateDir,
		ExposedPorts: map[string]struct{}{
			"3478/udp": {}, "3478/tcp": {}, "443/tcp": {},
		},
		StopSignal: "SIGTERM",
		Labels:     b.imageLabels(ctx),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	return img, nil
}

// imageLabels are the image's org.opencontainers.image.* labels.
func (b *builder) imageLabels(ctx context.Context) map[string]string {
	labels := map[string]string{
		"org.opencontainers.image.title":         productName,
		"org.opencontainers.image.description":   summary,
		"org.opencontainers.image.version":       b.version,
		"org.opencontainers.image.created":       b.date.Format(time.RFC3339),
		"org.opencontainers.image.url":           homepage,
		"org.opencontainers.image.source":        homepage,
		"org.opencontainers.image.documentation": homepage + "/blob/main/docs/deploy-container.md",
		"org.opencontainers.image.licenses":      license,
		"org.opencontainers.image.vendor":        vendor,
	}
	if commit, err := gitOutput(ctx, b.opts.repo, "rev-parse", "HEAD"); err == nil {
		labels["org.opencontainers.image.revision"] = commit
	}
	return labels
}

// tarDir writes the directory dir as a tar file at dst, its entries named
// relative to dir, sorted, with the time date and root's ownership.
func tarDir(dir, dst string, date time.Time) error {
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("oci-archive: %w", err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: date, Typeflag: tar.TypeReg, Size: info.Size(), Format: tar.FormatPAX}
		if d.IsDir() {
			hdr.Name, hdr.Mode, hdr.Typeflag, hdr.Size = strings.TrimSuffix(hdr.Name, "/")+"/", 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("oci-archive: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("oci-archive: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("oci-archive: %w", err)
	}
	return nil
}
