package main

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// STUN (RFC 8489) constants of a Binding transaction.
const (
	stunBindingRequest  = 0x0001
	stunBindingSuccess  = 0x0101
	stunMagicCookie     = 0x2112A442
	stunXORMappedAddr   = 0x0020
	stunHeaderLen       = 20
	stunFamilyIPv4      = 0x01
	stunResendInterval  = 200 * time.Millisecond
	containerStartLimit = 30 * time.Second
)

// TestImageServesSTUN runs the image with runc, the container runtime that
// works on this kind of machine (podman 4.3 fails setting RLIMIT_NPROC and
// crun 1.8 refuses the hybrid cgroup hierarchy): the layer unpacked into a
// root file system, the image's entrypoint, command, user and environment in
// a runtime configuration that keeps the host's network namespace (as
// --network=host does), and a configuration with a UDP listener on a
// loopback port in place of the image's sample. A STUN Binding request to
// that port gets a success response whose XOR-MAPPED-ADDRESS is the
// request's source.
func TestImageServesSTUN(t *testing.T) {
	runc := tool(t, "runc", "runc")
	needRoot(t, "runc run")
	img, files := hostImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	unpack(t, rootfs, files)

	port := freeUDPPort(t)
	config := fmt.Sprintf(`realm: example.com
listeners:
  - protocol: udp
    address: 127.0.0.1:%d
relay:
  address: 127.0.0.1
  ports: 50000-50099
auth:
  secrets:
    - id: test
      secret: "%s"
`, port, strings.Repeat("5e", 32))
	if err := os.WriteFile(filepath.Join(rootfs, "etc/avedge/avedge.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	writeRuntimeSpec(t, bundle, cf.Config)

	id := fmt.Sprintf("avedge-release-test-%d", os.Getpid())
	var output lockedBuffer
	cmd := exec.Command(runc, "run", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		exec.Command(runc, "kill", id, "KILL").Run()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		exec.Command(runc, "delete", "--force", id).Run()
	})

	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	var txid [12]byte
	rand.Read(txid[:])
	request := make([]byte, stunHeaderLen)
	binary.BigEndian.PutUint16(request[0:], stunBindingRequest)
	binary.BigEndian.PutUint32(request[4:], stunMagicCookie)
	copy(request[8:], txid[:])

	// UDP STUN retransmits until the edge in the container listens (RFC
	// 8489 §6.2.1), bounded by containerStartLimit.
	deadline := time.Now().Add(containerStartLimit)
	buf := make([]byte, 1500)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the container exited before answering: %v\n%s", err, output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no STUN answer from the container within %v:\n%s", containerStartLimit, output.String())
		}
		if _, err := conn.WriteToUDP(request, server); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(stunResendInterval))
		n, _, err := conn.ReadFromUDP(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		if err != nil {
			// ICMP port unreachable while the edge starts.
			time.Sleep(stunResendInterval)
			continue
		}
		mapped, err := parseBindingSuccess(buf[:n], txid)
		if err != nil {
			t.Fatalf("answer to the Binding request: %v\n% x", err, buf[:n])
		}
		local := conn.LocalAddr().(*net.UDPAddr)
		if !mapped.IP.Equal(local.IP) || mapped.Port != local.Port {
			t.Errorf("XOR-MAPPED-ADDRESS %v, want the request's source %v", mapped, local)
		}
		t.Logf("the container at 127.0.0.1:%d answered XOR-MAPPED-ADDRESS %v", port, mapped)
		return
	}
}

// parseBindingSuccess returns the XOR-MAPPED-ADDRESS of a Binding success
// response to the transaction txid.
func parseBindingSuccess(msg []byte, txid [12]byte) (*net.UDPAddr, error) {
	if len(msg) < stunHeaderLen {
		return nil, fmt.Errorf("%d bytes, shorter than a STUN header", len(msg))
	}
	if typ := binary.BigEndian.Uint16(msg); typ != stunBindingSuccess {
		return nil, fmt.Errorf("message type %#04x, want Binding success %#04x", typ, stunBindingSuccess)
	}
	if binary.BigEndian.Uint32(msg[4:]) != stunMagicCookie || !bytes.Equal(msg[8:20], txid[:]) {
		return nil, errors.New("not the request's transaction")
	}
	length := int(binary.BigEndian.Uint16(msg[2:]))
	if stunHeaderLen+length > len(msg) {
		return nil, errors.New("length past the datagram")
	}
	attrs := msg[stunHeaderLen : stunHeaderLen+length]
	for len(attrs) >= 4 {
		typ, alen := binary.BigEndian.Uint16(attrs), int(binary.BigEndian.Uint16(attrs[2:]))
		if 4+alen > len(attrs) {
			return nil, errors.New("attribute past the message")
		}
		value := attrs[4 : 4+alen]
		if typ == stunXORMappedAddr {
			if alen != 8 || value[1] != stunFamilyIPv4 {
				return nil, fmt.Errorf("XOR-MAPPED-ADDRESS of %d bytes, family %d: want IPv4", alen, value[1])
			}
			port := binary.BigEndian.Uint16(value[2:]) ^ uint16(stunMagicCookie>>16)
			ip := binary.BigEndian.Uint32(value[4:]) ^ stunMagicCookie
			return &net.UDPAddr{IP: net.IPv4(byte(ip>>24), byte(ip>>16), byte(ip>>8), byte(ip)), Port: int(port)}, nil
		}
		attrs = attrs[(4+alen+3)&^3:]
	}
	return nil, errors.New("no XOR-MAPPED-ADDRESS")
}

// unpack writes the layer's entries under root with their modes and owners.
func unpack(t *testing.T, root string, files map[string]layerFile) {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names) // parents first
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		f := files[name]
		dst := filepath.Join(root, filepath.FromSlash(name))
		var err error
		switch f.hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, os.FileMode(f.hdr.Mode).Perm())
		case tar.TypeReg:
			err = os.WriteFile(dst, f.content, os.FileMode(f.hdr.Mode).Perm())
		case tar.TypeSymlink:
			err = os.Symlink(f.hdr.Linkname, dst)
		default:
			t.Fatalf("%s: unexpected entry type %c", name, f.hdr.Typeflag)
		}
		if err == nil {
			err = os.Lchown(dst, f.hdr.Uid, f.hdr.Gid)
		}
		if err == nil && f.hdr.Typeflag != tar.TypeSymlink {
			err = os.Chmod(dst, os.FileMode(f.hdr.Mode).Perm())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// writeRuntimeSpec writes the bundle's config.json (OCI runtime
// specification) for the image's configuration: its process, as its user,
// with no capability, in new PID, IPC, UTS and mount namespaces and the
// host's network namespace.
func writeRuntimeSpec(t *testing.T, bundle string, c v1.Config) {
	t.Helper()
	uidStr, gidStr, _ := strings.Cut(c.User, ":")
	uid, err1 := strconv.Atoi(uidStr)
	gid, err2 := strconv.Atoi(gidStr)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("User %q: %v", c.User, err)
	}
	cwd := c.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	spec := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal":        false,
			"user":            map[string]any{"uid": uid, "gid": gid},
			"args":            append(slices.Clone(c.Entrypoint), c.Cmd...),
			"env":             c.Env,
			"cwd":             cwd,
			"noNewPrivileges": true,
		},
		"root":     map[string]any{"path": "rootfs", "readonly": false},
		"hostname": "avedge",
		"mounts": []map[string]any{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		},
		"linux": map[string]any{
			"namespaces": []map[string]any{{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}},
		},
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// lockedBuffer is a bytes.Buffer safe for a writing process and a reading
// test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
