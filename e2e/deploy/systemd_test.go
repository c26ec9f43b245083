package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// maxExposure bounds systemd-analyze security's overall exposure score
// of the unit (0 is fully locked down, 10 is unprotected), in the tenths
// that its --threshold takes: 2.0.
const maxExposure = "20"

// systemdAnalyze returns the path of systemd-analyze, or skips the test
// (fails it when CI is "true": CI installs it, see scripts/install-test-deps).
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze (Debian package systemd) is needed to check the unit")
		}
		t.Skip("systemd-analyze (Debian package systemd) is not installed: the unit is not checked")
	}
	return path
}

// unitCopy writes the unit to a temporary directory with ExecStart naming
// an executable that exists here (verify checks that it does).
func unitCopy(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, "systemd", "avedge.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("ExecStart=/usr/local/bin/avedge serve --config /etc/avedge/avedge.yaml\n")) {
		t.Fatal("ExecStart is not /usr/local/bin/avedge serve --config /etc/avedge/avedge.yaml")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte("/usr/local/bin/avedge"), []byte(self))
	path := filepath.Join(t.TempDir(), "avedge.service")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// TestSystemdUnitVerifies runs systemd-analyze verify, which reports
// unknown keys and bad values on its output without failing: the output
// must be empty.
func TestSystemdUnitVerifies(t *testing.T) {
	sa := systemdAnalyze(t)
	unit := unitCopy(t)
	out, err := run(t, sa, "verify", "--man=no", unit)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The check sees mistakes: a misspelt key is reported.
	data, _ := os.ReadFile(unit)
	bad := bytes.Replace(data, []byte("NoNewPrivileges=yes"), []byte("NoNewPrivilege=yes"), 1)
	if err := os.WriteFile(unit, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := run(t, sa, "verify", "--man=no", unit); !strings.Contains(out, "NoNewPrivilege") {
		t.Errorf("verify did not report a misspelt key: %q", out)
	}
}

// TestSystemdUnitHardening holds the unit's hardening: its own user, port
// 443 through CAP_NET_BIND_SERVICE only, and an exposure score that
// systemd-analyze security rates at most 2.0.
func TestSystemdUnitHardening(t *testing.T) {
	sa := systemdAnalyze(t)
	unit := unitCopy(t)
	data, _ := os.ReadFile(unit)
	for _, line := range []string{
		"User=avedge", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
		"NoNewPrivileges=yes", "ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM",
	} {
		if !bytes.Contains(data, []byte("\n"+line+"\n")) {
			t.Errorf("the unit lacks %s", line)
		}
	}
	out, err := run(t, sa, "security", "--offline=yes", "--threshold="+maxExposure, unit)
	if err != nil {
		t.Fatalf("systemd-analyze security: %v (exposure above %s tenths)\n%s", err, maxExposure, out)
	}
	if !strings.Contains(out, "Overall exposure level") {
		t.Errorf("no exposure level in:\n%s", out)
	}
}

// TestSystemdUnitRestartsAfterRequestedDrain: an edge drained on request
// of its admin endpoint exits with status 75 (see "avedge serve --help"):
// the unit starts it again and does not count that as a failure, while a
// stop (SIGTERM, exit status 0) leaves it stopped and a failure restarts.
func TestSystemdUnitRestartsAfterRequestedDrain(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "systemd", "avedge.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Restart=on-failure", "RestartForceExitStatus=75", "SuccessExitStatus=75"} {
		if !bytes.Contains(data, []byte("\n"+line+"\n")) {
			t.Errorf("the unit lacks %s", line)
		}
	}
}

// TestSysusersDeclaresTheUser checks that the sysusers.d file creates the
// user the unit runs as.
func TestSysusersDeclaresTheUser(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "systemd", "avedge.sysusers"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("\nu avedge - ")) {
		t.Errorf("avedge.sysusers does not create user avedge:\n%s", data)
	}
}

// TestSystemdOffloadDropIn: deploy/systemd/offload.conf, beside the unit
// as in /etc/systemd/system/avedge.service.d/, verifies cleanly and gives
// the service what the eBPF offload needs, as systemd-analyze security
// reads the merged unit: CAP_BPF, CAP_NET_ADMIN and bpf(2), which the unit
// alone withholds; the exposure score stays within maxExposure.
func TestSystemdOffloadDropIn(t *testing.T) {
	sa := systemdAnalyze(t)
	unit := unitCopy(t)
	granted := []string{
		"✗ CapabilityBoundingSet=~CAP_BPF", "✗ CapabilityBoundingSet=~CAP_NET_ADMIN", "(e.g. bpf is allowed)",
	}
	out, err := run(t, sa, "security", "--offline=yes", unit)
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	for _, g := range granted {
		if strings.Contains(out, g) {
			t.Errorf("the unit alone grants what the drop-in is for: %q in\n%s", g, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(deployDir, "systemd", "offload.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dropIns := filepath.Join(filepath.Dir(unit), "avedge.service.d")
	if err := os.Mkdir(dropIns, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropIns, "offload.conf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, sa, "verify", "--man=no", unit); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("systemd-analyze verify with the drop-in: %v\n%s", err, out)
	}
	out, err = run(t, sa, "security", "--offline=yes", "--threshold="+maxExposure, unit)
	if err != nil {
		t.Fatalf("systemd-analyze security with the drop-in: %v (exposure above %s tenths)\n%s", err, maxExposure, out)
	}
	for _, g := range granted {
		if !strings.Contains(out, g) {
			t.Errorf("with the drop-in, systemd-analyze security does not say %q:\n%s", g, out)
		}
	}
}
