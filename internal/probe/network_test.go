package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// fakeDNS is the host's network with names looked up in a table, so that
// tests resolve names without leaving loopback.
type fakeDNS struct {
	SystemNetwork
	names map[string][]netip.Addr
}

var errNoSuchHost = errors.New("no such host")

func (f fakeDNS) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f.names[host] {
		if a.Is4() == (network == "ip4") {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: errNoSuchHost.Error(), Name: host, IsNotFound: true}
	}
	return out, nil
}

// TestDNS: a name without addresses fails with a remedy and skips what
// depends on it; a name with A and AAAA records is probed on its IPv4
// address, and its TLS certificate is checked against the name.
func TestDNS(t *testing.T) {
	e := startEdge(t, edgeConfig{certNames: []string{"edge.test"}})
	network := fakeDNS{names: map[string][]netip.Addr{
		"edge.test": {netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")},
	}}
	r := probe(t, Options{
		URIs: []string{
			"turn:nowhere.test:3478?transport=udp",
			"turns:edge.test:" + itoa(e.tcp.Port()) + "?transport=tcp",
			"stun:edge.test:" + itoa(e.udp.Port()),
		},
		Credentials: credential(t, testSecret, time.Now().Add(time.Hour)),
		RootCAs:     e.ca.Pool(),
		Network:     network,
	})
	check(t, r, []want{
		{"dns nowhere.test", Fail, "publish A (and AAAA) records for nowhere.test"},
		{"allocate udp nowhere.test:3478", Skip, "see the dns check"},
		{"dns edge.test", Pass, "A 127.0.0.1; AAAA ::1; probing 127.0.0.1"},
		{"tls edge.test:", Pass, "names edge.test"},
		{"allocate tls 127.0.0.1:", Pass, ""},
		{"stun udp 127.0.0.1:", Pass, ""},
	})
	for _, c := range r.Checks {
		if c.Name == "allocate udp 127.0.0.1:"+itoa(e.udp.Port()) {
			t.Errorf("a stun: URI was allocated on: %+v", c)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want error
	}{
		{Options{}, ErrBadOptions},
		{Options{URIs: []string{"turn:edge.example.com"}, Timeout: -time.Second}, ErrBadOptions},
		{Options{URIs: []string{"turn:edge.example.com", "ftp:edge.example.com"}}, ErrBadURI},
	} {
		if _, err := Run(context.Background(), tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.opts, err, tc.want)
		}
	}
}

// TestCancelled: a probe whose context has ended fails its network checks
// at once instead of waiting for the edge.
func TestCancelled(t *testing.T) {
	udp, _ := closedPorts(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Run(ctx, Options{URIs: []string{"turn:" + udp.String() + "?transport=udp"}, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	check(t, r, []want{{"stun udp", Fail, "canceled"}})
}

// TestCredentialsURIs: without URIs, the probe tests those that came with
// the credential; a bad one is reported.
func TestCredentialsURIs(t *testing.T) {
	e := startEdge(t, edgeConfig{})
	cred := credential(t, testSecret, time.Now().Add(time.Hour))
	r := probe(t, Options{Credentials: urisSource{cred, []string{e.uris()[0], "ftp:elsewhere"}}})
	check(t, r, []want{
		{"credentials", Pass, ""},
		{"uri", Fail, "ftp:elsewhere"},
		{"allocate udp", Pass, ""},
		{"round-trip udp", Pass, ""},
	})
	if r.Target != e.uris()[0]+" ftp:elsewhere" {
		t.Errorf("target %q", r.Target)
	}
}

// urisSource is a static credential that comes with URIs.
type urisSource struct {
	StaticCredential
	uris []string
}

func (s urisSource) Credential(ctx context.Context) (*Credential, error) {
	c, err := s.StaticCredential.Credential(ctx)
	if err == nil {
		c.URIs = s.uris
	}
	return c, err
}

// TestDNSOneFamily: a name with only A, or only AAAA, records is probed on
// the family it has.
func TestDNSOneFamily(t *testing.T) {
	network := fakeDNS{names: map[string][]netip.Addr{
		"v4.test":   {netip.MustParseAddr("192.0.2.1")},
		"v6.test":   {netip.MustParseAddr("2001:db8::1")},
		"both.test": {netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("192.0.2.1")},
	}}
	for host, want := range map[string]string{
		"v4.test":   "A 192.0.2.1; AAAA none; probing 192.0.2.1",
		"v6.test":   "A none; AAAA 2001:db8::1; probing 2001:db8::1",
		"both.test": "A 192.0.2.1; AAAA 2001:db8::1; probing 192.0.2.1",
	} {
		p := &prober{ctx: context.Background(), opts: Options{Network: network}}
		r, res := p.dnsCheck(host)
		if r.Status != Pass || r.Detail != want || !res.ok {
			t.Errorf("%s: %v %q (resolved %v), want pass %q", host, r.Status, r.Detail, res.ok, want)
		}
	}
}
