package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The image's user, without root: the uid and gid distroless images use.
const (
	imageUID  = 65532
	imageUser = "avedge"
	// imageStateDir is the edge's state directory in the image
	// (STATE_DIRECTORY; see internal/config's DefaultStateDir).
	imageStateDir = "/var/lib/avedge"
	// imageConfig is the configuration the image's Cmd names.
	imageConfig = "/etc/avedge/avedge.yaml"
	// imageConfigSample is the sample of configs/ copied there: an edge
	// on a host's network (--network=host) with absolute paths under
	// /etc/avedge, which an operator mounts over it.
	imageConfigSample = "cloud-vm-nat.yaml"
)

// imageEntry is one file, directory or symlink of the image's layer.
type imageEntry struct {
	name     string
	mode     int64
	uid      int
	typ      byte
	content  []byte
	linkname string
	// pax are the entry's PAX records (extended attributes).
	pax map[string]string
}

// netBindServiceXattr is the extended attribute security.capability of a
// file with the capability cap_net_bind_service=+ep (what "setcap
// cap_net_bind_service=+ep" writes): struct vfs_cap_data, revision 2,
// little-endian: magic_etc VFS_CAP_REVISION_2|VFS_CAP_FLAGS_EFFECTIVE,
// then permitted and inheritable of the low and high 32 capabilities;
// CAP_NET_BIND_SERVICE is 10. It lets the non-root user of the image bind
// TCP 443 when the container is given NET_BIND_SERVICE (Kubernetes
// capabilities.add, docker --cap-add), even with no_new_privs, since the
// runtime puts the capability in the permitted set before exec; without
// it, a non-root process loses every capability at exec.
var netBindServiceXattr = string([]byte{
	0x01, 0x00, 0x00, 0x02, // magic_etc
	0x00, 0x04, 0x00, 0x00, // data[0].permitted: 1<<10
	0x00, 0x00, 0x00, 0x00, // data[0].inheritable
	0x00, 0x00, 0x00, 0x00, // data[1].permitted
	0x00, 0x00, 0x00, 0x00, // data[1].inheritable
})

// imageLayerTar returns the uncompressed layer of the image for the given
// static binary: the binary at /usr/bin/avedge with the file capability
// cap_net_bind_service=+ep (and /avedge pointing to it, the path
// deploy/kubernetes names), the configuration, passwd and
// group files with root and the user avedge (65532), and the state
// directory owned by that user. No shell, no libraries, no CA
// certificates: the edge verifies no server certificate against system
// roots. Every entry has the time date, so the layer's bytes depend on
// the binary and the sample only.
func imageLayerTar(binary, configSample string, date time.Time) ([]byte, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	conf, err := os.ReadFile(configSample)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:avedge A/V edge:%s:/sbin/nologin\n",
		imageUser, imageUID, imageUID, imageStateDir)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", imageUser, imageUID)
	dir := func(name string, mode int64, uid int) imageEntry {
		return imageEntry{name: name + "/", mode: mode, uid: uid, typ: tar.TypeDir}
	}
	file := func(name string, mode int64, content []byte) imageEntry {
		return imageEntry{name: name, mode: mode, typ: tar.TypeReg, content: content}
	}
	entries := []imageEntry{
		{name: "avedge", mode: 0o777, typ: tar.TypeSymlink, linkname: "usr/bin/avedge"},
		dir("etc", 0o755, 0),
		dir("etc/avedge", 0o755, 0),
		file("etc/avedge/avedge.yaml", 0o644, conf),
		file("etc/group", 0o644, []byte(group)),
		file("etc/passwd", 0o644, []byte(passwd)),
		dir("usr", 0o755, 0),
		dir("usr/bin", 0o755, 0),
		{name: "usr/bin/avedge", mode: 0o755, typ: tar.TypeReg, content: bin,
			pax: map[string]string{"SCHILY.xattr.security.capability": netBindServiceXattr}},
		dir("var", 0o755, 0),
		dir("var/lib", 0o755, 0),
		dir(filepath.Join("var/lib", imageUser), 0o750, imageUID),
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Typeflag: e.typ, Name: e.name, Linkname: e.linkname, Mode: e.mode, Size: int64(len(e.content)),
			Uid: e.uid, Gid: e.uid, ModTime: date, Format: tar.FormatPAX, PAXRecords: e.pax,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("image layer: %w", err)
		}
		if _, err := tw.Write(e.content); err != nil {
			return nil, fmt.Errorf("image layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	return buf.Bytes(), nil
}
