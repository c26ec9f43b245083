package detect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

const (
	// firstRTO is the first retransmission time-out of a Binding request;
	// it doubles after each retransmission (RFC 8489 §6.2.1, shortened to
	// fit a detection of a few seconds).
	firstRTO = 250 * time.Millisecond
	// defaultTimeout bounds a detection whose context has no deadline.
	defaultTimeout = 3 * time.Second
	// maxSTUNMessage is the largest answer read.
	maxSTUNMessage = 1500
)

// STUN returns the address that the STUN servers (each "host:port", host
// an IP address or a name) see as the source of Binding requests sent from
// a UDP socket bound to local (port 0): the public address of a 1:1 NAT in
// front of local, or local itself when there is none. The requests go to
// every server at once and are sent again, with a doubling interval, to
// those that have not answered, until all have or ctx ends (its deadline,
// else a few seconds). Only the address of the family of local counts.
// Servers that answer must agree; source names the first that answered,
// as "stun HOST:PORT". Failures wrap ErrSTUN.
func STUN(ctx context.Context, local netip.Addr, servers []string) (addr netip.Addr, source string, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	if len(servers) == 0 {
		return netip.Addr{}, "", fmt.Errorf("%w: no servers", ErrSTUN)
	}
	targets, err := resolveServers(ctx, local, servers)
	if err != nil {
		return netip.Addr{}, "", err
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", netip.AddrPortFrom(local, 0).String())
	if err != nil {
		return netip.Addr{}, "", fmt.Errorf("%w: bind %s: %w", ErrSTUN, local, err)
	}
	defer pc.Close()
	conn := pc.(*net.UDPConn)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	return exchange(ctx, conn, targets)
}

// target is one STUN server and what it answered.
type target struct {
	name   string
	addr   netip.AddrPort
	req    *stun.Message
	mapped netip.AddrPort
}

// resolveServers looks up the servers' addresses of the family of local.
func resolveServers(ctx context.Context, local netip.Addr, servers []string) ([]*target, error) {
	network := "ip4"
	if local.Is6() {
		network = "ip6"
	}
	var out []*target
	for _, s := range servers {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrSTUN, s, err)
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("%w: %q: bad port", ErrSTUN, s)
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrSTUN, s, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%w: %s: no %s address", ErrSTUN, s, network)
		}
		req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSTUN, err)
		}
		out = append(out, &target{name: s, addr: netip.AddrPortFrom(ips[0].Unmap(), uint16(p)), req: req})
	}
	return out, nil
}

// exchange sends each target its Binding request until it answers or ctx
// ends, and returns the address the answers agree on.
func exchange(ctx context.Context, conn *net.UDPConn, targets []*target) (netip.Addr, string, error) {
	rto := firstRTO
	next := time.Now()
	var order []*target // in the order they answered
	buf := make([]byte, maxSTUNMessage)
	for len(order) < len(targets) && ctx.Err() == nil {
		if now := time.Now(); !now.Before(next) {
			for _, t := range targets {
				if !t.mapped.IsValid() {
					// A lost datagram is what retransmission is for.
					_, _ = conn.WriteToUDPAddrPort(t.req.Raw, t.addr)
				}
			}
			next = now.Add(rto)
			rto *= 2
		}
		wait := next
		if d, ok := ctx.Deadline(); ok && d.Before(wait) {
			wait = d
		}
		_ = conn.SetReadDeadline(wait)
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			continue // the read deadline: retransmit, or ctx ended
		}
		if t := match(targets, buf[:n], from); t != nil {
			order = append(order, t)
		}
	}
	if len(order) == 0 {
		return netip.Addr{}, "", fmt.Errorf("%w: no answer from %s", ErrSTUN, names(targets))
	}
	first := order[0]
	for _, t := range order[1:] {
		if t.mapped.Addr() != first.mapped.Addr() {
			return netip.Addr{}, "", fmt.Errorf("%w: the servers disagree: %s sees %s, %s sees %s",
				ErrSTUN, first.name, first.mapped.Addr(), t.name, t.mapped.Addr())
		}
	}
	return first.mapped.Addr(), "stun " + first.name, nil
}

// match records the mapped address of a Binding success response from the
// target it answers (same address and transaction ID) that has not
// answered yet, and returns that target; anything else is ignored.
func match(targets []*target, b []byte, from netip.AddrPort) *target {
	m := &stun.Message{Raw: slices.Clone(b)}
	if m.Decode() != nil || m.Type != stun.BindingSuccess {
		return nil
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	for _, t := range targets {
		if t.mapped.IsValid() || t.addr != from || t.req.TransactionID != m.TransactionID {
			continue
		}
		var x stunproto.XORMappedAddress
		if x.GetFrom(m) != nil {
			return nil
		}
		a := x.Addr.Addr().Unmap()
		if a.Is4() != t.addr.Addr().Is4() {
			return nil
		}
		t.mapped = netip.AddrPortFrom(a, x.Addr.Port())
		return t
	}
	return nil
}

// names lists the targets' names.
func names(targets []*target) string {
	s := make([]string, len(targets))
	for i, t := range targets {
		s[i] = t.name
	}
	return strings.Join(s, ", ")
}
