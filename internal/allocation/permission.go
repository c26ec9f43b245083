package allocation

import (
	"net/netip"
	"slices"
	"time"
)

// permission lets packets from and to one peer IP address through (RFC 8656
// §9). Ports are ignored: "permissions are per IP address only".
type permission struct {
	ip      netip.Addr
	expires int64 // Unix nanoseconds
}

// AddPermission installs a permission for ip, or refreshes the existing one,
// to last Config.PermissionLifetime from now (RFC 8656 §9: "the lifetime of
// a permission is 300 seconds", refreshed by CreatePermission or
// ChannelBind). The port of a peer address does not matter; IPv4-mapped
// addresses are stored as IPv4. It returns ErrBadPeer for an invalid
// address and ErrTooManyPermissions when Config.MaxPermissions unexpired
// permissions are installed.
func (a *Allocation) AddPermission(ip netip.Addr, now time.Time) error {
	if !ip.IsValid() {
		return ErrBadPeer
	}
	ip = canonAddr(ip)
	cfg := a.config()
	t := now.UnixNano()
	exp := now.Add(cfg.PermissionLifetime).UnixNano()
	free := -1
	for i := range a.perms {
		p := &a.perms[i]
		if p.ip == ip {
			p.expires = exp
			return nil
		}
		if free < 0 && p.expires <= t {
			free = i
		}
	}
	if free >= 0 {
		a.perms[free] = permission{ip: ip, expires: exp}
		return nil
	}
	if len(a.perms) >= cfg.MaxPermissions {
		return ErrTooManyPermissions
	}
	a.perms = append(a.perms, permission{ip: ip, expires: exp})
	return nil
}

// HasPermission reports whether an unexpired permission exists for ip. It
// does not allocate and is meant to be called per packet.
func (a *Allocation) HasPermission(ip netip.Addr, now time.Time) bool {
	ip = canonAddr(ip)
	t := now.UnixNano()
	for i := range a.perms {
		if a.perms[i].ip == ip {
			return t < a.perms[i].expires
		}
	}
	return false
}

// prunePermissions drops the permissions expired at t, returning nil when
// none remain so the backing array can be freed.
func prunePermissions(ps []permission, t int64) []permission {
	ps = slices.DeleteFunc(ps, func(p permission) bool { return p.expires <= t })
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// AddPermissions installs or refreshes permissions for every address in ips
// as one operation (RFC 8656 §9.2: a CreatePermission succeeds or fails as a
// whole): when they would not all fit under Config.MaxPermissions it
// returns ErrTooManyPermissions and changes nothing.
func (a *Allocation) AddPermissions(ips []netip.Addr, now time.Time) error {
	a.perms = prunePermissions(a.perms, now.UnixNano())
	seen := make(map[netip.Addr]struct{}, len(ips))
	fresh := 0
	for _, ip := range ips {
		if !ip.IsValid() {
			return ErrBadPeer
		}
		ip = canonAddr(ip)
		if _, dup := seen[ip]; dup {
			continue
		}
		seen[ip] = struct{}{}
		if !a.hasEntry(ip) {
			fresh++
		}
	}
	if len(a.perms)+fresh > a.config().MaxPermissions {
		return ErrTooManyPermissions
	}
	for _, ip := range ips {
		if err := a.AddPermission(ip, now); err != nil {
			return err // unreachable: room was checked above
		}
	}
	return nil
}

// hasEntry reports whether a permission entry, expired or not, exists for
// the canonical address ip.
func (a *Allocation) hasEntry(ip netip.Addr) bool {
	for i := range a.perms {
		if a.perms[i].ip == ip {
			return true
		}
	}
	return false
}

// Permissions calls fn with the IP address and expiry of each permission
// unexpired at now, for reports (not per packet).
func (a *Allocation) Permissions(now time.Time, fn func(ip netip.Addr, expires time.Time)) {
	t := now.UnixNano()
	for _, p := range a.perms {
		if t < p.expires {
			fn(p.ip, time.Unix(0, p.expires))
		}
	}
}
