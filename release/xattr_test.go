package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestImageBinaryCapability: the image's binary carries, as a PAX
// extended attribute, exactly the security.capability that "setcap
// cap_net_bind_service=+ep" writes on this machine, so that the non-root
// user of the image can bind TCP 443 when given NET_BIND_SERVICE.
func TestImageBinaryCapability(t *testing.T) {
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("setcap is missing: scripts/install-test-deps installs Debian's libcap2-bin")
		}
		t.Skip("skipping: setcap not installed (Debian's libcap2-bin)")
	}
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(setcap, "cap_net_bind_service=+ep", probe).CombinedOutput(); err != nil {
		t.Skipf("skipping: setcap cannot set file capabilities here (%v: %s)", err, out)
	}
	want := make([]byte, 64)
	n, err := unix.Getxattr(probe, "security.capability", want)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "avedge.yaml")
	if err := os.WriteFile(conf, []byte("realm: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	layer, err := imageLayerTar(probe, conf, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			t.Fatal("no usr/bin/avedge in the layer")
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name != "usr/bin/avedge" {
			continue
		}
		if got := hdr.PAXRecords["SCHILY.xattr.security.capability"]; got != string(want[:n]) {
			t.Fatalf("security.capability of usr/bin/avedge %x, want what setcap writes, %x", got, want[:n])
		}
		return
	}
}
