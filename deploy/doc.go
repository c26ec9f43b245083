// Package deploy holds no code: its tests check the deployment files beside
// it. The Kubernetes manifests in kubernetes/ are decoded strictly into the
// Kubernetes API types and their embedded avedge configuration is parsed
// with the mounts and environment the DaemonSet gives it; the systemd unit
// in systemd/ is checked with systemd-analyze.
package deploy
