package deploy

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/revocation"
)

// manifests are the objects of deploy/kubernetes/avedge.yaml, or of a
// rendering of the Helm chart, by kind and name.
type manifests struct {
	daemonSet  *appsv1.DaemonSet
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	podMonitor *monitoringv1.PodMonitor
	kinds      []string
}

// loadManifests decodes every document of deploy/kubernetes/avedge.yaml
// strictly (an unknown or duplicate field is an error) into its API type.
func loadManifests(t *testing.T) manifests {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, "kubernetes", "avedge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return decodeManifests(t, bytes.Split(data, []byte("\n---\n")))
}

// decodeManifests decodes each document strictly (an unknown or duplicate
// field is an error) into its API type; there must be one DaemonSet.
func decodeManifests(t *testing.T, docs [][]byte) manifests {
	t.Helper()
	m := manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for i, doc := range docs {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 Namespace":
			obj = &corev1.Namespace{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "apps/v1 DaemonSet":
			obj = &appsv1.DaemonSet{}
		case "monitoring.coreos.com/v1 PodMonitor":
			obj = &monitoringv1.PodMonitor{}
		default:
			t.Fatalf("document %d: unexpected %q %q", i, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("document %d (%s): %v", i, meta.Kind, err)
		}
		m.kinds = append(m.kinds, meta.Kind)
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o
		case *corev1.Secret:
			m.secrets[o.Name] = o
		case *monitoringv1.PodMonitor:
			m.podMonitor = o
		case *appsv1.DaemonSet:
			if m.daemonSet != nil {
				t.Fatal("two DaemonSets")
			}
			m.daemonSet = o
		}
	}
	if m.daemonSet == nil {
		t.Fatal("no DaemonSet")
	}
	return m
}

// TestManifestsDecodeStrictly also shows that the strict decoding is
// strict: a misspelt field of the same manifests is refused.
func TestManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	want := []string{"Namespace", "ServiceAccount", "ConfigMap", "ConfigMap", "Secret", "Secret", "Secret", "DaemonSet"}
	if !slices.Equal(m.kinds, want) {
		t.Errorf("kinds = %v, want %v", m.kinds, want)
	}
	var ds appsv1.DaemonSet
	bad := []byte("apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      hostNetwrk: true\n")
	if err := yaml.UnmarshalStrict(bad, &ds); err == nil || !strings.Contains(err.Error(), "hostNetwrk") {
		t.Errorf("misspelt field: err = %v, want one naming hostNetwrk", err)
	}
}

// container returns the avedge container of the DaemonSet.
func (m manifests) container(t *testing.T) corev1.Container {
	t.Helper()
	cs := m.daemonSet.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "avedge" {
		t.Fatalf("containers = %+v, want one named avedge", cs)
	}
	return cs[0]
}

func TestDaemonSetShape(t *testing.T) {
	checkDaemonSetShape(t, loadManifests(t))
}

// checkDaemonSetShape checks what every DaemonSet of avedge needs: host
// networking, one node at a time on updates, the probes' paths, the drain
// in preStop, no capability but NET_BIND_SERVICE, no service account
// token, and NODE_IP from status.hostIP.
func checkDaemonSetShape(t *testing.T, m manifests) {
	t.Helper()
	pod := m.daemonSet.Spec.Template.Spec
	c := m.container(t)
	if !pod.HostNetwork || pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v, dnsPolicy %q: each edge must bind its node's own addresses", pod.HostNetwork, pod.DNSPolicy)
	}
	if s := m.daemonSet.Spec.UpdateStrategy; s.Type != appsv1.RollingUpdateDaemonSetStrategyType ||
		s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.IntValue() != 1 {
		t.Errorf("updateStrategy %+v, want a rolling update one node at a time", s)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
		{"livenessProbe", c.LivenessProbe, "/healthz"},
		{"startupProbe", c.StartupProbe, "/healthz"},
	} {
		// TestConfigMapConfiguration checks their host and port.
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s = %+v, want GET %s", p.name, p.probe, p.path)
		}
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil ||
		!slices.Contains(c.Lifecycle.PreStop.Exec.Command, "drain") || !slices.Contains(c.Lifecycle.PreStop.Exec.Command, "--wait") {
		t.Errorf("preStop = %+v, want avedge drain --wait", c.Lifecycle)
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_BIND_SERVICE"}) {
		t.Errorf("securityContext = %+v, want every capability dropped but NET_BIND_SERVICE, no escalation, read-only root", sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it does not need")
	}
	if len(c.Env) != 1 || c.Env[0].Name != "NODE_IP" || c.Env[0].ValueFrom == nil ||
		c.Env[0].ValueFrom.FieldRef == nil || c.Env[0].ValueFrom.FieldRef.FieldPath != "status.hostIP" {
		t.Errorf("env = %+v, want NODE_IP from status.hostIP", c.Env)
	}
}

// TestConfigMapConfiguration parses the configuration of the ConfigMap as
// the DaemonSet's container would see it (see parsePodConfig) and checks
// that the pod's ports, probes and grace period agree with it, and that
// the admin listener is on the node's loopback.
func TestConfigMapConfiguration(t *testing.T) {
	m := loadManifests(t)
	pc, err := parsePodConfig(t, m, netip.MustParseAddr("198.51.100.7"))
	if err != nil {
		t.Fatalf("the ConfigMap's configuration: %v", err)
	}
	pc.check(t, m)
	// The probes' paths and /metrics answer without authentication: only
	// on the node's loopback, where the kubelet's probes reach them.
	if !pc.cfg.Admin.Listen.Addr().IsLoopback() {
		t.Errorf("admin.listen %v is not on the loopback", pc.cfg.Admin.Listen)
	}
}

// podConfig is the configuration that a DaemonSet's container runs, with
// the files of its volumes written under root.
type podConfig struct {
	cfg     *config.Config
	root    string
	mounted map[string]bool // the container paths of the volumes' files
	nodeIP  netip.Addr      // NODE_IP
}

// parsePodConfig parses the configuration that the DaemonSet's container
// reads: at the path its args name, with the files of the mounted
// ConfigMaps and Secrets (test values in place of the CHANGE-ME
// placeholders) and NODE_IP set to nodeIP. The error is the parser's.
func parsePodConfig(t *testing.T, m manifests, nodeIP netip.Addr) (podConfig, error) {
	t.Helper()
	c := m.container(t)
	pc := podConfig{root: t.TempDir(), nodeIP: nodeIP}
	pc.mounted = mountVolumes(t, m, c, pc.root)

	cfgPath := argAfter(t, c.Args, "--config")
	if !pc.mounted[cfgPath] {
		t.Fatalf("--config %s is not a file of a mounted volume", cfgPath)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil {
		t.Fatalf("no preStop command: %+v", c.Lifecycle)
	}
	if pre := c.Lifecycle.PreStop.Exec.Command; argAfter(t, pre, "--config") != cfgPath {
		t.Errorf("preStop %v drains another configuration than %s", pre, cfgPath)
	}
	data, err := os.ReadFile(filepath.Join(pc.root, cfgPath))
	if err != nil {
		t.Fatal(err)
	}
	// Absolute paths in the configuration resolve under root, as in the container.
	data = bytes.ReplaceAll(data, []byte(" /etc/avedge/"), []byte(" "+filepath.Join(pc.root, "etc/avedge")+"/"))
	pc.cfg, err = config.ParseEnv(cfgPath, filepath.Dir(filepath.Join(pc.root, cfgPath)), data, func(name string) (string, bool) {
		if name == "NODE_IP" {
			return pc.nodeIP.String(), true
		}
		return "", false
	})
	return pc, err
}

// check checks that the pod agrees with its configuration: the relay on
// the node's address with its ports reserved, the revocations and admin
// token files mounted, every listener's port declared, the probes on
// admin.listen (the loopback, or the node's address, which is the pod's),
// and a grace period longer than drain.timeout.
func (pc podConfig) check(t *testing.T, m manifests) {
	t.Helper()
	cfg, root, mounted, nodeIP := pc.cfg, pc.root, pc.mounted, pc.nodeIP
	c := m.container(t)
	if cfg.Relay.Address != nodeIP {
		t.Errorf("relay.address = %v, want the node's %v", cfg.Relay.Address, nodeIP)
	}
	// The relay ports are reserved from the node's ephemeral ports.
	reserve := fmt.Sprintf("net.ipv4.ip_local_reserved_ports=%d-%d", cfg.Relay.PortMin, cfg.Relay.PortMax)
	if !slices.ContainsFunc(m.daemonSet.Spec.Template.Spec.InitContainers, func(ic corev1.Container) bool {
		return slices.Contains(ic.Command, reserve)
	}) {
		t.Errorf("no init container sets %s", reserve)
	}
	// The revocations file is the mounted ConfigMap's, and it loads.
	if !mounted[strings.TrimPrefix(cfg.Auth.RevocationsFile, root)] {
		t.Errorf("auth.revocations_file %s is not a file of a mounted volume", cfg.Auth.RevocationsFile)
	}
	store, err := revocation.New(revocation.Options{Path: cfg.Auth.RevocationsFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Load(); err != nil {
		t.Errorf("the revocations ConfigMap: %v", err)
	}

	ports := map[string]corev1.ContainerPort{}
	for _, p := range c.Ports {
		ports[fmt.Sprintf("%s/%d", p.Protocol, p.ContainerPort)] = p
		if p.HostPort != p.ContainerPort {
			t.Errorf("port %s: hostPort %d differs from containerPort %d", p.Name, p.HostPort, p.ContainerPort)
		}
	}
	want := func(proto corev1.Protocol, ap netip.AddrPort, what string) {
		t.Helper()
		if ap.Addr() != nodeIP {
			t.Errorf("%s binds %v, not the node's address", what, ap)
		}
		if _, ok := ports[fmt.Sprintf("%s/%d", proto, ap.Port())]; !ok {
			t.Errorf("%s port %d/%s is not declared on the container", what, ap.Port(), proto)
		}
	}
	for _, l := range cfg.Listeners {
		proto := corev1.ProtocolTCP
		if l.Protocol == "udp" {
			proto = corev1.ProtocolUDP
		}
		want(proto, l.Address, "listener "+l.Protocol)
	}
	if cfg.Admin == nil || cfg.CredentialService == nil {
		t.Fatal("the configuration has no admin or credential_service section")
	}
	want(corev1.ProtocolTCP, cfg.CredentialService.Listen, "credential service")
	// The preStop hook's "avedge drain --config" finds the admin token
	// through the configuration: a file of a mounted Secret.
	if !mounted[strings.TrimPrefix(cfg.Admin.TokenFile, root)] || len(cfg.Admin.Token) == 0 {
		t.Errorf("admin.token_file %s is not a file of a mounted volume", cfg.Admin.TokenFile)
	}
	if _, ok := ports[fmt.Sprintf("TCP/%d", cfg.Admin.Listen.Port())]; ok {
		t.Errorf("the admin port %d is declared as a host port", cfg.Admin.Listen.Port())
	}
	for _, probe := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("a probe of the container is missing or not an HTTP GET: %+v", probe)
			continue
		}
		// Without a host the kubelet probes the pod's address: with host
		// networking, the node's.
		host := probe.HTTPGet.Host
		if host == "" {
			host = nodeIP.String()
		}
		if probe.HTTPGet.Port.IntValue() != int(cfg.Admin.Listen.Port()) || host != cfg.Admin.Listen.Addr().String() {
			t.Errorf("probe %s:%s is not admin.listen %v", probe.HTTPGet.Host, probe.HTTPGet.Port.String(), cfg.Admin.Listen)
		}
	}
	grace := time.Duration(*m.daemonSet.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if grace <= cfg.Drain.Timeout {
		t.Errorf("terminationGracePeriodSeconds %v is not longer than drain.timeout %v: a drain would be cut short", grace, cfg.Drain.Timeout)
	}
}

// TestConfigMapIsSample checks that configs/kubernetes.yaml, the sample
// configuration of docs/topologies.md, is the ConfigMap's avedge.yaml byte
// for byte, below a header of comments.
func TestConfigMapIsSample(t *testing.T) {
	m := loadManifests(t)
	cm, ok := m.configMaps["avedge-config"]
	if !ok {
		t.Fatal("no ConfigMap avedge-config")
	}
	inMap := cm.Data["avedge.yaml"]
	data, err := os.ReadFile(filepath.Join(deployDir, "..", "configs", "kubernetes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// loadManifests splits the documents at "\n---\n", which takes the
	// newline of the block scalar's last line: compare without it.
	sample := strings.TrimSuffix(string(data), "\n")
	header, found := strings.CutSuffix(sample, strings.TrimSuffix(inMap, "\n"))
	if inMap == "" || !found {
		t.Fatalf("configs/kubernetes.yaml does not end with the ConfigMap's avedge.yaml:\n%s", inMap)
	}
	for line := range strings.Lines(header) {
		if !strings.HasPrefix(line, "#") {
			t.Errorf("configs/kubernetes.yaml: %q before the ConfigMap's configuration is not a comment", line)
		}
	}
}

// mountVolumes writes, under root, the files each volume mount of c
// shows: the ConfigMap's keys and, for Secrets, test values (a 64-character
// hex string for pool secrets, a development PKI's PEM files for
// certificates). It returns the container paths written.
func mountVolumes(t *testing.T, m manifests, c corev1.Container, root string) map[string]bool {
	t.Helper()
	files, err := pki.WriteDev(filepath.Join(t.TempDir(), "pki"), pki.DevOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	testValue := map[string]string{
		"tls.crt":        read(files.ServerCert),
		"tls.key":        read(files.ServerKey),
		"clients-ca.crt": read(files.CACert),
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range m.daemonSet.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	mounted := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		if !vm.ReadOnly {
			t.Errorf("volume %s is mounted writable", vm.Name)
		}
		v, ok := volumes[vm.Name]
		if !ok {
			t.Fatalf("volumeMount %s names no volume", vm.Name)
		}
		content := map[string]string{}
		switch {
		case v.ConfigMap != nil:
			cm, ok := m.configMaps[v.ConfigMap.Name]
			if !ok {
				t.Fatalf("volume %s: no ConfigMap %s", v.Name, v.ConfigMap.Name)
			}
			content = cm.Data
		case v.Secret != nil:
			s, ok := m.secrets[v.Secret.SecretName]
			if !ok {
				t.Fatalf("volume %s: no Secret %s", v.Name, v.Secret.SecretName)
			}
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o077 != 0 {
				t.Errorf("volume %s: secret files readable by group or others", v.Name)
			}
			for key, val := range s.StringData {
				if !strings.HasPrefix(val, "CHANGE-ME") {
					t.Errorf("Secret %s key %s holds a value, not a CHANGE-ME placeholder", s.Name, key)
				}
				if content[key] = testValue[key]; content[key] == "" {
					content[key] = strings.Repeat("5e", 32)
				}
			}
		default:
			t.Fatalf("volume %s: neither ConfigMap nor Secret", v.Name)
		}
		for key, val := range content {
			p := filepath.Join(vm.MountPath, key)
			full := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(val), 0o600); err != nil {
				t.Fatal(err)
			}
			mounted[p] = true
		}
	}
	return mounted
}

// argAfter returns the argument that follows flag in args.
func argAfter(t *testing.T, args []string, flag string) string {
	t.Helper()
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("%v has no %s", args, flag)
	}
	return args[i+1]
}
