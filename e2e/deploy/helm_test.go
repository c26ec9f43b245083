package deploy

import (
	"context"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/avedge/avedge/internal/revocation"
	"github.com/avedge/avedge/internal/sessions"
)

// chartDir is the avedge Helm chart.
var chartDir = filepath.Join(deployDir, "helm", "avedge")

// chartValues reads a values file of the chart.
func chartValues(t *testing.T, name string) map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(chartDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vals, err := loader.LoadValues(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return vals
}

// renderChart renders the chart for an install of release into namespace
// avedge with vals over the chart's values.yaml, strictly (a template that
// reads a value that does not exist fails), and returns its documents in
// the order of their templates' names, without NOTES.txt.
func renderChart(t *testing.T, release string, vals map[string]any) [][]byte {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	opts := common.ReleaseOptions{Name: release, Namespace: "avedge", Revision: 1, IsInstall: true}
	rv, err := util.ToRenderValues(chrt, vals, opts, common.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Engine{Strict: true}.RenderWithContext(context.Background(), chrt, rv)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var docs [][]byte
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		for doc := range strings.SplitSeq(out[name], "\n---\n") {
			if !blankYAML(doc) {
				docs = append(docs, []byte(doc))
			}
		}
	}
	return docs
}

// blankYAML reports whether a YAML document holds only comments, blank
// lines and document separators: what a template that renders nothing
// leaves.
func blankYAML(doc string) bool {
	for line := range strings.Lines(doc) {
		if l := strings.TrimSpace(line); l != "" && l != "---" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// createSecrets adds to m the Secrets that the DaemonSet mounts and the
// chart did not create, with the keys docs/deploy-kubernetes.md tells the
// deployer to create and CHANGE-ME placeholders, as the kubectl commands
// there would; mountVolumes then writes test values for them.
func createSecrets(t *testing.T, m manifests) {
	t.Helper()
	documented := documentedSecretKeys(t)
	for _, v := range m.daemonSet.Spec.Template.Spec.Volumes {
		if v.Secret == nil || m.secrets[v.Secret.SecretName] != nil {
			continue
		}
		keys, ok := documented[v.Secret.SecretName]
		if !ok {
			t.Fatalf("the chart mounts Secret %s, which docs/deploy-kubernetes.md does not create", v.Secret.SecretName)
		}
		s := &corev1.Secret{StringData: map[string]string{}}
		s.Name = v.Secret.SecretName
		for _, k := range keys {
			s.StringData[k] = "CHANGE-ME-" + k
		}
		m.secrets[s.Name] = s
	}
}

// documentedSecretKeys reads, from the kubectl create secret commands of
// docs/deploy-kubernetes.md, the keys of each Secret they create.
func documentedSecretKeys(t *testing.T) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(deployDir, "..", "docs", "deploy-kubernetes.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	cmd := regexp.MustCompile(`kubectl -n avedge create secret (?:generic|tls) (\S+)((?:\\\n|[^\n])*)`)
	key := regexp.MustCompile(`--from-(?:literal|file)=([^=\s]+)|--(cert|key)=`)
	for _, c := range cmd.FindAllStringSubmatch(string(doc), -1) {
		for _, k := range key.FindAllStringSubmatch(c[2], -1) {
			switch k[2] {
			case "":
				keys[c[1]] = append(keys[c[1]], k[1])
			case "cert":
				keys[c[1]] = append(keys[c[1]], "tls.crt")
			default:
				keys[c[1]] = append(keys[c[1]], "tls.key")
			}
		}
	}
	if len(keys) == 0 {
		t.Fatal("docs/deploy-kubernetes.md has no kubectl -n avedge create secret command")
	}
	return keys
}

// chartCase is a rendering of the chart.
type chartCase struct {
	name    string
	release string
	values  map[string]any
	nodeIP  netip.Addr // the node's address, NODE_IP
	kinds   []string   // the kinds of the rendered documents, in order
}

// chartCases are the renderings the tests check: the defaults; the NAT
// example (advertised: auto); and a release on a node with a private
// address that creates its Secrets from values, advertises one static
// address (a NAT's), exposes /metrics on the node's address (which the
// parser allows only for a private one) and turns the PodMonitor on.
func chartCases(t *testing.T) []chartCase {
	t.Helper()
	placeholder := func(k string) string { return "CHANGE-ME-" + k }
	return []chartCase{
		{
			name: "defaults", release: "avedge", values: nil, nodeIP: netip.MustParseAddr("198.51.100.7"),
			kinds: []string{"ConfigMap", "DaemonSet", "ConfigMap", "ServiceAccount"},
		},
		{
			name: "nat", release: "avedge", values: chartValues(t, "values-nat.yaml"), nodeIP: netip.MustParseAddr("10.0.0.7"),
			kinds: []string{"ConfigMap", "DaemonSet", "ConfigMap", "ServiceAccount"},
		},
		{
			name: "secrets-static-metrics", release: "edge", nodeIP: netip.MustParseAddr("10.0.0.7"),
			values: map[string]any{
				"secrets": map[string]any{
					"create": true,
					"pool": map[string]any{"data": map[string]any{
						"secret-1": placeholder("secret-1"), "secret-2": placeholder("secret-2"),
						"nonce-key": placeholder("nonce-key"), "admin-token": placeholder("admin-token"),
					}},
					"tls": map[string]any{"data": map[string]any{"tls.crt": placeholder("tls.crt"), "tls.key": placeholder("tls.key")}},
					"credentialService": map[string]any{"data": map[string]any{
						"tls.crt": placeholder("tls.crt"), "tls.key": placeholder("tls.key"), "clients-ca.crt": placeholder("clients-ca.crt"),
					}},
				},
				"podMonitor": map[string]any{"enabled": true},
				"config": map[string]any{
					"relay": map[string]any{"advertised": "203.0.113.10"},
					"auth": map[string]any{"secrets": []any{
						map[string]any{"id": "pool-2", "key": "secret-2"},
						map[string]any{"id": "pool-1", "key": "secret-1"},
					}},
					"admin":   map[string]any{"bind": "node"},
					"extra":   "limits:\n  unauthenticated_burst: 40\n",
					"drain":   map[string]any{"timeout": "10m"},
					"realm":   "turn.example.org",
					"peers":   map[string]any{"defaultDeny": true},
					"records": map[string]any{"output": "stdout"},
				},
				"revocations": map[string]any{"list": []any{
					map[string]any{"identity": "mallory", "at": "2026-12-07T10:00:00Z"},
				}},
			},
			kinds: []string{"ConfigMap", "DaemonSet", "PodMonitor", "ConfigMap", "Secret", "Secret", "Secret", "ServiceAccount"},
		},
	}
}

// TestChartRenders renders each case, decodes every document strictly
// into its Kubernetes API type, checks the DaemonSet as the manifest's is
// checked, and parses the rendered avedge.yaml as the pod would see it.
func TestChartRenders(t *testing.T) {
	for _, tc := range chartCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeManifests(t, renderChart(t, tc.release, tc.values))
			if !slices.Equal(m.kinds, tc.kinds) {
				t.Errorf("kinds = %v, want %v", m.kinds, tc.kinds)
			}
			checkDaemonSetShape(t, m)
			checkNonRoot(t, m)
			createSecrets(t, m)
			pc, err := parsePodConfig(t, m, tc.nodeIP)
			if err != nil {
				t.Fatalf("the rendered avedge.yaml: %v", err)
			}
			pc.check(t, m)
			if tc.name == "secrets-static-metrics" {
				checkStaticMetricsCase(t, m, pc)
			}
		})
	}
}

// checkNonRoot checks that the avedge container runs as a user other
// than root, whose files in the Secrets it can read through the pod's
// fsGroup.
func checkNonRoot(t *testing.T, m manifests) {
	t.Helper()
	sc := m.container(t).SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Fatalf("securityContext = %+v, want runAsNonRoot and a user other than root", sc)
	}
	psc := m.daemonSet.Spec.Template.Spec.SecurityContext
	if psc == nil || psc.FSGroup == nil || sc.RunAsGroup == nil || *psc.FSGroup != *sc.RunAsGroup {
		t.Errorf("pod securityContext = %+v: the mounted Secrets' group must be the container's group, or the edge cannot read them", psc)
	}
}

// checkStaticMetricsCase checks what the third case's values change: the
// static advertised address, the pool secrets in order, the admin listener
// on the node's address for the PodMonitor, the extra keys, and the
// revocations in their ConfigMap.
func checkStaticMetricsCase(t *testing.T, m manifests, pc podConfig) {
	t.Helper()
	cfg := pc.cfg
	if got := cfg.Relay.Advertised.String(); got != "203.0.113.10" {
		t.Errorf("relay.advertised = %s, want 203.0.113.10", got)
	}
	var ids []string
	for _, s := range cfg.Auth.Secrets {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"pool-2", "pool-1"}) {
		t.Errorf("auth.secrets ids = %v, want [pool-2 pool-1]", ids)
	}
	if cfg.Admin.Listen.Addr() != pc.nodeIP {
		t.Errorf("admin.listen = %v, want the node's address for the PodMonitor", cfg.Admin.Listen)
	}
	if pm := m.podMonitor; pm == nil || len(pm.Spec.PodMetricsEndpoints) != 1 ||
		pm.Spec.PodMetricsEndpoints[0].PortNumber == nil ||
		int(*pm.Spec.PodMetricsEndpoints[0].PortNumber) != int(cfg.Admin.Listen.Port()) {
		t.Errorf("PodMonitor = %+v, want one endpoint on admin.listen's port %d", pm, cfg.Admin.Listen.Port())
	} else if sel := pm.Spec.Selector.MatchLabels; !maps.Equal(sel, m.daemonSet.Spec.Selector.MatchLabels) {
		t.Errorf("PodMonitor selects %v, the DaemonSet's pods are %v", sel, m.daemonSet.Spec.Selector.MatchLabels)
	}
	if cfg.Limits.UnauthenticatedBurst != 40 {
		t.Errorf("limits.unauthenticated_burst = %d, want the 40 of config.extra", cfg.Limits.UnauthenticatedBurst)
	}
	if _, ok := m.configMaps["edge-avedge-revocations"]; !ok {
		t.Error("no ConfigMap edge-avedge-revocations")
	}
	store, err := revocation.New(revocation.Options{Path: cfg.Auth.RevocationsFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Load(); err != nil {
		t.Fatalf("the revocations ConfigMap: %v", err)
	}
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	want := []sessions.Revocation{{Identity: "mallory", At: at}}
	if got := store.Current().List(); !slices.Equal(got, want) {
		t.Errorf("revocations = %+v, want %+v from revocations.list", got, want)
	}
}

// TestChartRefusesBadValues renders values that the chart must refuse
// with a message naming the value.
func TestChartRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"podMonitor": map[string]any{"enabled": true}}, "podMonitor.enabled needs config.admin.bind: node"},
		{map[string]any{"config": map[string]any{"admin": map[string]any{"bind": "everywhere"}}}, `config.admin.bind is "everywhere"`},
		{map[string]any{"config": map[string]any{"relay": map[string]any{"detectWith": []any{"stun.example.net:3478"}}}}, "config.relay.detectWith needs config.relay.advertised: auto"},
		{map[string]any{"secrets": map[string]any{"create": true}}, "secrets.pool.data.nonce-key is required"},
	} {
		chrt, err := loader.Load(chartDir)
		if err != nil {
			t.Fatal(err)
		}
		rv, err := util.ToRenderValues(chrt, tc.values, common.ReleaseOptions{Name: "avedge", Namespace: "avedge"}, common.DefaultCapabilities)
		if err != nil {
			t.Fatal(err)
		}
		_, err = engine.Engine{Strict: true}.RenderWithContext(context.Background(), chrt, rv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %v: err = %v, want one saying %q", tc.values, err, tc.want)
		}
	}
}

// TestChartRollsOnConfigChange checks the pods' checksum/config
// annotation: a changed configuration changes it, so that helm upgrade
// rolls the edges onto it, and a changed revocation list does not, since
// the edges re-read that file themselves.
func TestChartRollsOnConfigChange(t *testing.T) {
	checksum := func(vals map[string]any) string {
		m := decodeManifests(t, renderChart(t, "avedge", vals))
		sum := m.daemonSet.Spec.Template.Annotations["checksum/config"]
		if sum == "" {
			t.Fatal("no checksum/config annotation on the pod template")
		}
		return sum
	}
	base := checksum(nil)
	if checksum(map[string]any{"config": map[string]any{"realm": "turn.example.org"}}) == base {
		t.Error("a changed config.realm leaves checksum/config as it was: helm upgrade would not roll the edges")
	}
	revoked := map[string]any{"revocations": map[string]any{"list": []any{map[string]any{"identity": "mallory", "at": "2026-12-07T10:00:00Z"}}}}
	if checksum(revoked) != base {
		t.Error("a revocation changes checksum/config: helm upgrade would restart every edge for it")
	}
}

// TestChartLint runs helm lint's checks on the chart with its default and
// NAT values: no warning or error.
func TestChartLint(t *testing.T) {
	for _, name := range []string{"values.yaml", "values-nat.yaml"} {
		linter := lint.RunAll(chartDir, chartValues(t, name), "avedge")
		for _, msg := range linter.Messages {
			if msg.Severity > support.InfoSev {
				t.Errorf("%s: %s", name, msg)
			}
		}
	}
}

// TestChartRendersConfigKeys checks that the configuration the chart
// renders by default has the sections of configs/kubernetes.yaml, the
// ConfigMap of the plain manifest: the two deployments run the same edge.
func TestChartRendersConfigKeys(t *testing.T) {
	chart := decodeManifests(t, renderChart(t, "avedge", nil))
	plain := loadManifests(t)
	top := func(cm *corev1.ConfigMap) []string {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(cm.Data["avedge.yaml"]), &doc); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(doc))
	}
	got, want := top(chart.configMaps["avedge-config"]), top(plain.configMaps["avedge-config"])
	if !slices.Equal(got, want) {
		t.Errorf("the chart's avedge.yaml has sections %v, the manifest's %v", got, want)
	}
}
