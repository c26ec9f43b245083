package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// layerFile is one entry of the image's layer.
type layerFile struct {
	hdr     *tar.Header
	content []byte
}

// hostImage reads the OCI layout back with go-containerregistry: the
// image for the host's architecture, and the entries of its one layer.
func hostImage(t *testing.T) (v1.Image, map[string]layerFile) {
	t.Helper()
	dir := artifact(t, artifacts(t), "-oci")
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	topManifest, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(topManifest.Manifests) != 1 || topManifest.Manifests[0].Annotations[refNameAnnotation] != testVersion {
		t.Fatalf("index.json names %+v, want one index named %s", topManifest.Manifests, testVersion)
	}
	index, err := top.ImageIndex(topManifest.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var img v1.Image
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
			if img, err = index.Image(d.Digest); err != nil {
				t.Fatal(err)
			}
		}
	}
	if img == nil {
		t.Fatalf("no linux/%s image in the index: %+v", runtime.GOARCH, im.Manifests)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("the image has %d layers (%v), want 1", len(layers), err)
	}
	size, err := layers[0].Size()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linux/%s image: compressed layer %d bytes (%.1f MiB)", runtime.GOARCH, size, float64(size)/(1<<20))
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]layerFile{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(hdr.Name, "/")] = layerFile{hdr, content}
	}
	return img, files
}

// TestImageLayout checks the image's configuration (entrypoint, command,
// user 65532, ports, labels) and its layer: a static binary, no shell,
// the user in /etc/passwd, the state directory owned by the user.
func TestImageLayout(t *testing.T) {
	img, files := hostImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/bin/avedge"}) {
		t.Errorf("Entrypoint %q", c.Entrypoint)
	}
	if !slices.Equal(c.Cmd, []string{"serve", "--config", "/etc/avedge/avedge.yaml"}) {
		t.Errorf("Cmd %q", c.Cmd)
	}
	if c.User != "65532:65532" {
		t.Errorf("User %q, want 65532:65532", c.User)
	}
	for _, port := range []string{"3478/udp", "3478/tcp", "443/tcp"} {
		if _, ok := c.ExposedPorts[port]; !ok {
			t.Errorf("%s not exposed: %v", port, c.ExposedPorts)
		}
	}
	if c.Labels["org.opencontainers.image.version"] != testVersion || c.Labels["org.opencontainers.image.source"] != homepage {
		t.Errorf("labels %v", c.Labels)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}

	for name, f := range files {
		if base := path.Base(name); slices.Contains([]string{"sh", "bash", "dash", "ash", "busybox", "zsh"}, base) {
			t.Errorf("the layer has a shell: %s", name)
		}
		if f.hdr.Typeflag == tar.TypeReg && f.hdr.Mode&0o111 != 0 && name != "usr/bin/avedge" {
			t.Errorf("the layer has another executable: %s", name)
		}
	}
	bin, ok := files["usr/bin/avedge"]
	if !ok {
		t.Fatal("no usr/bin/avedge in the layer")
	}
	exe, err := elf.NewFile(bytes.NewReader(bin.content))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range exe.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("usr/bin/avedge is not static: it has %v", p.Type)
		}
	}
	if want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]; exe.Machine != want {
		t.Errorf("usr/bin/avedge is for %v, want %v", exe.Machine, want)
	}
	mustContain(t, "etc/passwd", string(files["etc/passwd"].content), "\navedge:x:65532:65532:")
	mustContain(t, "etc/group", string(files["etc/group"].content), "\navedge:x:65532:")
	if st := files["var/lib/avedge"].hdr; st == nil || st.Uid != 65532 || st.Gid != 65532 || st.Typeflag != tar.TypeDir {
		t.Errorf("var/lib/avedge is not a directory of 65532:65532: %+v", st)
	}
	if !slices.Contains(cf.Config.Env, "STATE_DIRECTORY=/var/lib/avedge") {
		t.Errorf("Env %q lacks STATE_DIRECTORY=/var/lib/avedge", cf.Config.Env)
	}
	sample, err := os.ReadFile(filepath.Join("..", "configs", imageConfigSample))
	if err != nil {
		t.Fatal(err)
	}
	if conf := files["etc/avedge/avedge.yaml"]; !bytes.Equal(conf.content, sample) {
		t.Errorf("etc/avedge/avedge.yaml is not configs/%s", imageConfigSample)
	}
}
