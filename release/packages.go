package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"
)

// Where the packages install avedge's files.
const (
	pkgBinary   = "/usr/bin/avedge"
	pkgUnit     = "/usr/lib/systemd/system/avedge.service"
	pkgSysusers = "/usr/lib/sysusers.d/avedge.conf"
	pkgSysctl   = "/usr/lib/sysctl.d/60-avedge.conf"
	pkgConfDir  = "/etc/avedge"
)

// linuxPackage writes the package of format (kindDeb or kindRPM) for arch
// into the output directory.
func (b *builder) linuxPackage(ctx context.Context, format, arch string) error {
	info, err := b.packageInfo(ctx, format, arch)
	if err != nil {
		return err
	}
	var packager nfpm.Packager = deb.Default
	if format == kindRPM {
		packager = rpm.DefaultRPM
	}
	name := packager.ConventionalFileName(info)
	path := filepath.Join(b.opts.out, name)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%s package: %w", format, err)
	}
	info.Target = path
	if err := packager.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("%s package for %s: %w", format, arch, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s package: %w", format, err)
	}
	b.log.Info("wrote", "package", name)
	b.artifacts = append(b.artifacts, name)
	return nil
}

// packageInfo describes the package of format for arch.
func (b *builder) packageInfo(ctx context.Context, format, arch string) (*nfpm.Info, error) {
	binary, err := b.linuxBinary(ctx, arch)
	if err != nil {
		return nil, err
	}
	unit, err := b.packagedUnit()
	if err != nil {
		return nil, err
	}
	contents, err := b.packageContents(binary, unit)
	if err != nil {
		return nil, err
	}
	scripts := filepath.Join(b.opts.repo, "release", "pkgscripts")
	info := &nfpm.Info{
		Name:        productName,
		Arch:        arch,
		Platform:    "linux",
		Version:     b.version,
		Release:     "1",
		Section:     "net",
		Priority:    "optional",
		Maintainer:  maintainer,
		Description: summary + "\n" + description,
		Vendor:      vendor,
		Homepage:    homepage,
		License:     license,
		MTime:       b.date,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Umask:    0o022,
		},
	}
	switch format {
	case kindDeb:
		info.Scripts = nfpm.Scripts{
			PostInstall: filepath.Join(scripts, "deb-postinst"),
			PreRemove:   filepath.Join(scripts, "deb-prerm"),
			PostRemove:  filepath.Join(scripts, "deb-postrm"),
		}
	case kindRPM:
		info.Scripts = nfpm.Scripts{
			PostInstall: filepath.Join(scripts, "rpm-post"),
			PreRemove:   filepath.Join(scripts, "rpm-preun"),
			PostRemove:  filepath.Join(scripts, "rpm-postun"),
		}
		info.RPM.Summary = summary
		info.Description = description
		info.RPM.Group = "System Environment/Daemons"
		info.RPM.BuildHost = "avedge-release"
	}
	return nfpm.WithDefaults(info), nil
}

// packageContents lists the files of the packages: the binary, the unit,
// sysusers and sysctl drop-ins, and the sample configurations under
// /etc/avedge as configuration files that an upgrade does not overwrite
// once edited.
func (b *builder) packageContents(binary, unit string) (files.Contents, error) {
	deploy := filepath.Join(b.opts.repo, "deploy", "systemd")
	contents := files.Contents{
		{Source: binary, Destination: pkgBinary, FileInfo: fileInfo(0o755)},
		{Source: unit, Destination: pkgUnit, FileInfo: fileInfo(0o644)},
		{Source: filepath.Join(deploy, "avedge.sysusers"), Destination: pkgSysusers, FileInfo: fileInfo(0o644)},
		{Source: filepath.Join(deploy, "avedge-sysctl.conf"), Destination: pkgSysctl, FileInfo: fileInfo(0o644)},
		// Group avedge and mode 0750 come from the postinstall script,
		// once the group exists.
		{Destination: pkgConfDir, Type: files.TypeDir, FileInfo: fileInfo(0o750)},
	}
	samples, err := sampleConfigs(b.opts.repo)
	if err != nil {
		return nil, err
	}
	for _, sample := range samples {
		contents = append(contents, &files.Content{
			Source:      sample,
			Destination: pkgConfDir + "/" + filepath.Base(sample),
			Type:        files.TypeConfigNoReplace,
			FileInfo:    fileInfo(0o644),
		})
	}
	return contents, nil
}

// sampleConfigs returns the paths of the sample configurations, configs/*.yaml.
func sampleConfigs(repo string) ([]string, error) {
	samples, err := filepath.Glob(filepath.Join(repo, "configs", "*.yaml"))
	if err != nil || len(samples) == 0 {
		return nil, fmt.Errorf("no sample configurations in configs/: %v", err)
	}
	return samples, nil
}

// fileInfo is a root-owned file of mode.
func fileInfo(mode os.FileMode) *files.ContentFileInfo {
	return &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode}
}
