package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnitChanged reports a unit file that no longer has a line the
// packages rewrite.
var ErrUnitChanged = errors.New("deploy/systemd/avedge.service changed")

// Lines of deploy/systemd/avedge.service that the packaged unit rewrites.
const (
	unitExecStart    = "ExecStart=/usr/local/bin/avedge serve "
	packageExecStart = "ExecStart=/usr/bin/avedge serve "
	unitInstallStart = "# Install:\n"
	unitInstallEnd   = "#\n# Reload"
)

// packageInstallNote replaces the unit's manual install steps in the
// packaged unit.
const packageInstallNote = `# Installed by the avedge package (docs/deploy-debian.md, docs/deploy-rhel.md), which
# created the user avedge and left this unit disabled. To run the edge:
#   cp /etc/avedge/cloud-vm-nat.yaml /etc/avedge/avedge.yaml     # or another sample; fill it in
#   avedge config check --config /etc/avedge/avedge.yaml
#   systemctl enable --now avedge
# Other relay.ports: copy /usr/lib/sysctl.d/60-avedge.conf to /etc/sysctl.d/ and edit the copy.
`

// packagedUnit writes the unit the packages install: the one of
// deploy/systemd with the binary at /usr/bin/avedge and the package's
// install notes. It returns its path.
func (b *builder) packagedUnit() (string, error) {
	data, err := os.ReadFile(filepath.Join(b.opts.repo, "deploy", "systemd", "avedge.service"))
	if err != nil {
		return "", fmt.Errorf("unit: %w", err)
	}
	unit := string(data)
	if !strings.Contains(unit, "\n"+unitExecStart) {
		return "", fmt.Errorf("%w: no line starting %q", ErrUnitChanged, unitExecStart)
	}
	unit = strings.Replace(unit, "\n"+unitExecStart, "\n"+packageExecStart, 1)
	start := strings.Index(unit, unitInstallStart)
	end := strings.Index(unit, unitInstallEnd)
	if start < 0 || end < start {
		return "", fmt.Errorf("%w: no comment block from %q to %q", ErrUnitChanged, unitInstallStart, unitInstallEnd)
	}
	unit = unit[:start] + packageInstallNote + unit[end:]
	path := filepath.Join(b.work, "avedge.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		return "", fmt.Errorf("unit: %w", err)
	}
	return path, nil
}
