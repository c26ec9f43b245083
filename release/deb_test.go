package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// debFile returns the content of the file at name (such as
// "./usr/lib/systemd/system/avedge.service") in the .deb's data.
func debFile(t *testing.T, dpkgDeb, pkg, name string) string {
	t.Helper()
	data := command(t, dpkgDeb, "--fsys-tarfile", pkg)
	tr := tar.NewReader(strings.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the .deb: %v", name, err)
		}
		if hdr.Name == name {
			content, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(content)
		}
	}
}

// sampleNames are the file names of configs/*.yaml.
func sampleNames(t *testing.T) []string {
	t.Helper()
	samples, err := sampleConfigs("..")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range samples {
		names = append(names, filepath.Base(s))
	}
	return names
}

// TestDebContents reads the .deb back with dpkg-deb: its control fields,
// its files, the sample configurations as conffiles, the unit it installs
// and maintainer scripts that start nothing.
func TestDebContents(t *testing.T) {
	dpkgDeb := tool(t, "dpkg-deb", "dpkg")
	pkg := artifact(t, artifacts(t), ".deb")
	info := command(t, dpkgDeb, "--info", pkg)
	t.Log(info)
	mustContain(t, "dpkg-deb --info", info,
		"Package: avedge", "Version: 0.0.0~test.1-1", "Architecture: "+runtime.GOARCH,
		"Maintainer: "+maintainer, "Homepage: "+homepage, "Description: "+summary,
		" postinst ", " prerm ", " postrm ")
	contents := command(t, dpkgDeb, "--contents", pkg)
	mustContain(t, "dpkg-deb --contents", contents,
		"-rwxr-xr-x root/root", "."+pkgBinary+"\n", "."+pkgUnit+"\n", "."+pkgSysusers+"\n", "."+pkgSysctl+"\n",
		"drwxr-x--- root/root")
	conffiles := command(t, dpkgDeb, "--info", pkg, "conffiles")
	var want []string
	for _, name := range sampleNames(t) {
		want = append(want, "/etc/avedge/"+name)
	}
	if got := strings.Fields(conffiles); !slices.Equal(got, want) {
		t.Errorf("conffiles: %q, want %q", got, want)
	}
	unit := debFile(t, dpkgDeb, pkg, "."+pkgUnit)
	mustContain(t, "the packaged unit", unit,
		"\nExecStart=/usr/bin/avedge serve --config /etc/avedge/avedge.yaml\n",
		"\nConditionPathExists=/etc/avedge/avedge.yaml\n",
		"\nExecStartPre=-+/usr/lib/systemd/systemd-sysctl 60-avedge.conf\n")
	if strings.Contains(unit, "/usr/local/bin") {
		t.Errorf("the packaged unit names /usr/local/bin:\n%s", unit)
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		startsNothing(t, script, command(t, dpkgDeb, "--info", pkg, script))
	}
}

// operatorMark marks the configuration TestDebInstallPurge writes as an
// operator would: a copy it finds at start is its own leftover.
const operatorMark = "# written by TestDebInstallPurge (release module), as an operator would\n"

// TestDebInstallPurge installs the .deb on this machine with dpkg, runs the
// installed binary, checks a filled sample with it, checks the user and
// that nothing enabled or started the unit, then purges the package: its
// files go, the configuration the operator wrote stays. The package is
// purged however the test ends.
func TestDebInstallPurge(t *testing.T) {
	dpkg := tool(t, "dpkg", "dpkg")
	needRoot(t, "dpkg -i")
	pkg := artifact(t, artifacts(t), ".deb")
	operatorConfig := "/etc/avedge/avedge.yaml"

	// A leftover of a run that was killed: purge it.
	if installed(t) {
		t.Log("the avedge package is installed (a killed run?): purging it first")
		command(t, dpkg, "--purge", "avedge")
	}
	if data, err := os.ReadFile(operatorConfig); err == nil && strings.HasPrefix(string(data), operatorMark) {
		os.Remove(operatorConfig)
		os.Remove("/etc/avedge")
	}
	if _, err := os.Stat("/etc/avedge"); err == nil {
		msg := "/etc/avedge exists and is not this test's: it does not install over it"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if installed(t) {
			if out, err := exec.Command(dpkg, "--purge", "avedge").CombinedOutput(); err != nil {
				t.Errorf("cleanup: dpkg --purge avedge: %v\n%s", err, out)
			}
		}
		os.Remove(operatorConfig)
		os.Remove("/etc/avedge")
	})

	command(t, dpkg, "-i", pkg)
	if !installed(t) {
		t.Fatal("dpkg -i did not install avedge")
	}
	version := command(t, "/usr/bin/avedge", "version")
	mustContain(t, "avedge version", version, "avedge "+testVersion+" (")

	passwd := command(t, "getent", "passwd", "avedge")
	mustContain(t, "the user avedge", passwd, ":/var/lib/avedge:", "nologin")
	command(t, "getent", "group", "avedge")
	st, err := os.Stat("/etc/avedge")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o750 {
		t.Errorf("/etc/avedge has mode %v, want 0750", st.Mode().Perm())
	}
	if group := strings.TrimSpace(command(t, "stat", "-c", "%G", "/etc/avedge")); group != "avedge" {
		t.Errorf("/etc/avedge has group %s, want avedge", group)
	}
	for _, path := range []string{pkgUnit, pkgSysusers, pkgSysctl} {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	// The installed unit verifies, its ExecStart naming the installed
	// binary.
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		if out, err := tryCommand(t, sa, "verify", "--man=no", pkgUnit); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify %s: %v\n%s", pkgUnit, err, out)
		}
	}
	// Nothing enabled the unit: no link in the target's wants, and
	// systemctl (offline, without a running systemd) says disabled.
	wants := "/etc/systemd/system/multi-user.target.wants/avedge.service"
	if _, err := os.Lstat(wants); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists (%v): the unit was enabled", wants, err)
	}
	if systemctl, err := exec.LookPath("systemctl"); err == nil {
		out, _ := tryCommand(t, systemctl, "is-enabled", "avedge.service")
		if s := strings.TrimSpace(out); s != "disabled" {
			t.Errorf("systemctl is-enabled avedge.service: %q, want disabled", s)
		}
	}
	// Nothing runs: no avedge process.
	if out, err := tryCommand(t, "pgrep", "-x", "avedge"); err == nil {
		t.Errorf("an avedge process runs after dpkg -i: %s", out)
	}

	checkInstalledSample(t)

	// The operator writes the configuration; purge keeps it and removes
	// every file of the package.
	if err := os.WriteFile(operatorConfig, []byte(operatorMark+"realm: example.com\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	command(t, dpkg, "--purge", "avedge")
	if installed(t) {
		t.Fatal("dpkg --purge left avedge installed")
	}
	gone := []string{pkgBinary, pkgUnit, pkgSysusers, pkgSysctl, "/var/lib/avedge", "/var/log/avedge"}
	for _, name := range sampleNames(t) {
		gone = append(gone, "/etc/avedge/"+name)
	}
	for _, path := range gone {
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is left after purge (%v)", path, err)
		}
	}
	if data, err := os.ReadFile(operatorConfig); err != nil || !bytes.HasPrefix(data, []byte(operatorMark)) {
		t.Errorf("purge did not keep the operator's %s: %v", operatorConfig, err)
	}
}

// installed reports whether dpkg has the avedge package installed (or
// half-installed).
func installed(t *testing.T) bool {
	t.Helper()
	out, err := tryCommand(t, "dpkg-query", "-W", "-f", "${db:Status-Status}", "avedge")
	return err == nil && strings.TrimSpace(out) != "not-installed" && strings.TrimSpace(out) != ""
}

// checkInstalledSample fills a copy of the installed cloud-vm-nat.yaml as an
// operator does (addresses, secret files, a certificate; files under
// /etc/avedge moved to a temporary directory) and checks it with the
// installed binary.
func checkInstalledSample(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile("/etc/avedge/cloud-vm-nat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.NewReplacer(
		"CHANGE-ME-PRIVATE-IP", "10.0.0.5",
		"CHANGE-ME-PUBLIC-IP", "203.0.113.10",
		" /etc/avedge/", " "+dir+"/",
	).Replace(string(data))
	config := filepath.Join(dir, "avedge.yaml")
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(config, text)
	secret := strings.Repeat("5e", 32) + "\n"
	for _, name := range []string{"secrets/2026-11", "secrets/nonce-key", "admin.token"} {
		write(filepath.Join(dir, name), secret)
	}
	pki := filepath.Join(dir, "pki")
	command(t, pkgBinary, "pki", "dev", "--new-ca", "--out", pki)
	for src, dst := range map[string]string{"service.crt": "turn.example.com.crt", "service.key": "turn.example.com.key"} {
		content, err := os.ReadFile(filepath.Join(pki, src))
		if err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(dir, "tls", dst), string(content))
	}
	out, err := tryCommand(t, pkgBinary, "config", "check", "--config", config)
	if err != nil {
		t.Fatalf("avedge config check of the filled cloud-vm-nat.yaml: %v", err)
	}
	if strings.Contains(out, "CHANGE-ME") {
		t.Errorf("the checked configuration holds a placeholder:\n%s", out)
	}
}
