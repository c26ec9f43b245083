package main

import (
	"runtime"
	"strings"
	"testing"
)

// rpmArch is rpm's name of each architecture.
var rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// TestRPMMetadataAndFiles reads the .rpm back with rpm: its metadata, its
// files, its configuration files (%config(noreplace)) and scriptlets that
// create the user and enable nothing.
func TestRPMMetadataAndFiles(t *testing.T) {
	rpm := tool(t, "rpm", "rpm")
	dir := artifacts(t)
	pkg := artifact(t, dir, ".rpm")
	info := command(t, rpm, "-qip", pkg)
	t.Log(info)
	mustContain(t, "rpm -qip", info,
		"Name        : avedge", "Version     : 0.0.0~test.1", "Release     : 1", "License     : "+license,
		"URL         : "+homepage, "Summary     : "+summary)
	if arch := rpmArch[runtime.GOARCH]; !strings.Contains(info, "Architecture: "+arch) {
		t.Errorf("rpm -qip: architecture is not %s", arch)
	}
	files := command(t, rpm, "-qlp", pkg)
	mustContain(t, "rpm -qlp", files, pkgBinary, pkgUnit, pkgSysusers, pkgSysctl,
		"/etc/avedge/cloud-vm-nat.yaml", "/etc/avedge/enterprise-edge.yaml")
	// No directory that other packages own (/usr/bin, /etc, ...).
	for line := range strings.Lines(files) {
		if line = strings.TrimSpace(line); line == "/usr/bin" || line == "/etc" || line == "/usr/lib/systemd/system" {
			t.Errorf("the rpm owns %s", line)
		}
	}
	// %config(noreplace): rpm -qcp lists them, and the dump's noreplace
	// column is set.
	configs := command(t, rpm, "-qcp", pkg)
	samples, err := sampleConfigs("..")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(strings.Fields(configs)); got != len(samples) {
		t.Errorf("rpm -qcp lists %d configuration files, want %d (configs/*.yaml):\n%s", got, len(samples), configs)
	}
	dump := command(t, rpm, "-qp", "--queryformat", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", pkg)
	for line := range strings.Lines(dump) {
		if strings.HasPrefix(line, "/etc/avedge/") && !strings.Contains(line, " cn") {
			t.Errorf("not %%config(noreplace): %s", line)
		}
	}
	scripts := command(t, rpm, "-qp", "--scripts", pkg)
	mustContain(t, "rpm --scripts", scripts, "systemd-sysusers avedge.conf", "useradd --system")
	startsNothing(t, "rpm scriptlets", scripts)
}
