package edge

import (
	"regexp"
	"slices"
	"strings"

	"github.com/avedge/avedge/internal/config"
)

// reloadable are the keys that Apply puts into effect, each with every key
// under it; "[]" stands for any item of a list. A changed key that is not
// among them needs a restart, so a key or section added to the
// configuration needs one until it is declared here (and Apply applies
// it).
var reloadable = []string{
	"listeners[].tls.cert_file",
	"listeners[].tls.key_file",
	"auth.secrets",
	"peers",
	"quotas.allocations_per_user",
	"quotas.allocations_total",
	"quotas.ports_per_user",
	"limits.unauthenticated_rate",
	"limits.unauthenticated_burst",
	"credential_service.cert_file",
	"credential_service.key_file",
	"credential_service.client_ca_file",
	"credential_service.trusted_clients",
}

// Reloadable returns the keys of the configuration that Apply puts into
// effect, each with every key under it; "[]" stands for any item of a
// list. Every other key needs a restart.
func Reloadable() []string { return slices.Clone(reloadable) }

// listIndex matches the index of a list item in a key.
var listIndex = regexp.MustCompile(`\[[0-9]+\]`)

// isReloadable reports whether key (as config.Changed names it) is, or is
// under, a reloadable key.
func isReloadable(key string) bool {
	key = listIndex.ReplaceAllString(key, "[]")
	for _, r := range reloadable {
		if key == r || strings.HasPrefix(key, r+".") || strings.HasPrefix(key, r+"[") {
			return true
		}
	}
	return false
}

// restartKeys returns the keys of the settings that differ between running
// and next and that Apply does not apply.
func restartKeys(running, next *config.Config) []string {
	var keys []string
	for _, key := range config.Changed(running, next) {
		if !isReloadable(key) {
			keys = append(keys, key)
		}
	}
	return keys
}
