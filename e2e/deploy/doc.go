// Package deploy holds no code: its tests check the deployment files in
// deploy/ at the root of the repository. The Kubernetes manifests in
// deploy/kubernetes are decoded strictly into the Kubernetes API types and
// their embedded avedge configuration is parsed with the mounts and
// environment the DaemonSet gives it. The Helm chart in deploy/helm/avedge
// is rendered with Helm's library and its documents and configuration are
// checked the same way. The systemd unit in deploy/systemd is
// checked with systemd-analyze. They live in the e2e module so that the
// Kubernetes API types stay out of the shipped module's dependencies.
package deploy
