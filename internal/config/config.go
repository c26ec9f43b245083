package config

import (
	"encoding/json"
	"slices"
)

// Config is a complete, validated avedge configuration with every default
// filled in. Its JSON form (and String) replaces secret values with
// "REDACTED".
type Config struct {
	// Source is the file the configuration came from, or
	// "(development defaults)".
	Source string `json:"source" key:"-"`
	// Development is true for the development edge built by Development.
	Development bool `json:"development" key:"-"`
	// Realm is the REALM of long-term credentials (RFC 8489 §14.9).
	Realm string `json:"realm"`
	// Software is the SOFTWARE attribute value (RFC 8489 §14.14); empty
	// disables the attribute.
	Software string `json:"software"`
	// AdvertiseHost is the host name put in credential URIs; empty means
	// the relay address.
	AdvertiseHost string `json:"advertise_host"`
	// Workers is the number of packet workers; 0 means one per CPU.
	Workers int `json:"workers"`
	// DataPath tunes the packet workers.
	DataPath DataPath `json:"datapath"`
	// Log configures logging.
	Log Log `json:"log"`
	// Interfaces names the internal and external interfaces; nil (the
	// section is absent) leaves addresses unchecked against them.
	Interfaces *Interfaces `json:"interfaces,omitempty"`
	// Listeners are the client-facing sockets.
	Listeners []Listener `json:"listeners"`
	// Relay is where relayed transport addresses live.
	Relay Relay `json:"relay"`
	// Auth holds the credential configuration.
	Auth Auth `json:"auth"`
	// Lifetimes are the allocation, permission and channel lifetimes.
	Lifetimes Lifetimes `json:"lifetimes"`
	// Peers is the peer address policy.
	Peers Peers `json:"peers"`
	// Quotas bound what clients may create.
	Quotas Quotas `json:"quotas"`
	// Limits bound what unauthenticated clients can make the edge do.
	Limits Limits `json:"limits"`
	// CredentialService configures the credential service; nil (the
	// section is absent) turns it off.
	CredentialService *CredentialService `json:"credential_service,omitempty"`
	// Admin configures the admin endpoints; nil (the section is absent)
	// turns them off.
	Admin *Admin `json:"admin"`
	// Records configures session records.
	Records Records `json:"records"`
	// Drain configures how the edge drains before it stops.
	Drain Drain `json:"drain"`
	// Pool names the sibling edges that clients are sent to when this
	// edge is full or draining.
	Pool Pool `json:"pool"`
	// MSTurn serves Lync and Skype for Business clients and front ends.
	MSTurn MSTurn `json:"ms_turn"`
	// Turn holds switches of the TURN protocol.
	Turn Turn `json:"turn"`
	// Tenants are the tenants beside the default one (see Tenant).
	Tenants []Tenant `json:"tenants,omitempty"`

	warnings []string
}

// defaults returns a Config holding every default value.
func defaults() *Config {
	return &Config{
		Software:  defaultSoftware,
		DataPath:  defaultDataPath(),
		Log:       defaultLog(),
		Relay:     defaultRelay(),
		Auth:      defaultAuth(),
		Lifetimes: defaultLifetimes(),
		Peers:     Peers{DefaultDeny: true, Ports: defaultPeerPorts()},
		Quotas:    defaultQuotas(),
		Limits:    defaultLimits(),
		Records:   defaultRecords(),
		Drain:     defaultDrain(),
		MSTurn:    defaultMSTurn(),
	}
}

// Warnings returns the problems that do not stop avedge from starting but
// that an operator should see, such as static users or world-readable
// secret files.
func (c *Config) Warnings() []string { return slices.Clone(c.warnings) }

// String returns c as indented JSON with secret values replaced by
// "REDACTED"; it is safe to log.
func (c *Config) String() string {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		// Every field has a JSON form; this is unreachable in practice.
		return "config: " + err.Error()
	}
	return string(b)
}
