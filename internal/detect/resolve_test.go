package detect

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/servertest"
)

// parse parses a one-NIC configuration with the relay section relay.
func parse(t *testing.T, relay string) *config.Config {
	t.Helper()
	src := `realm: example.com
listeners:
  - {protocol: udp, address: 0.0.0.0:3478}
auth:
  secrets:
    - {id: a, secret: "0123456789abcdef0123456789abcdef"}
relay:
` + relay
	c, err := config.Parse("edge.yaml", t.TempDir(), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeHost lists a NATed VM's interface addresses.
func fakeHost() ([]netip.Addr, error) {
	return addrs("127.0.0.1", "::1", "10.0.0.5", "fe80::5"), nil
}

func TestResolveSTUN(t *testing.T) {
	public := netip.MustParseAddrPort("203.0.113.5:40000")
	nat := servertest.NewSTUN(t, public, 0)
	cfg := parse(t, "  address: 127.0.0.1\n  advertised: auto\n  detect_with: [\""+nat.Addr.String()+"\"]\n")
	var logs bytes.Buffer
	got, d, err := Resolve(context.Background(), cfg, Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil)), InterfaceAddrs: fakeHost})
	if err != nil {
		t.Fatal(err)
	}
	if got.Relay.Advertised != public.Addr() || got.RelayAdvertised() != public.Addr() || got.Relay.Auto.Any() {
		t.Errorf("resolved relay %+v", got.Relay)
	}
	if !d.For.Advertised || d.Advertised != public.Addr() {
		t.Errorf("Detected = %+v", d)
	}
	if !cfg.Relay.Auto.Advertised || cfg.Relay.Advertised.IsValid() {
		t.Errorf("Resolve changed its argument: %+v", cfg.Relay)
	}
	want := `msg="detected relay.advertised" address=203.0.113.5 relay_address=127.0.0.1 source="stun ` + nat.Addr.String() + `"`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("logs lack %s:\n%s", want, logs.String())
	}
}

func TestResolveNoNAT(t *testing.T) {
	plain := servertest.NewSTUN(t, netip.AddrPort{}, 0)
	cfg := parse(t, "  address: 127.0.0.1\n  advertised: auto\n  detect_with: [\""+plain.Addr.String()+"\"]\n")
	var logs bytes.Buffer
	got, d, err := Resolve(context.Background(), cfg, Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if got.Relay.Advertised.IsValid() || got.Relay.Auto.Advertised || !d.For.Advertised {
		t.Errorf("relay %+v, detected %+v; want advertised unset", got.Relay, d)
	}
	if !strings.Contains(logs.String(), "not behind a NAT") {
		t.Errorf("logs lack the no-NAT line:\n%s", logs.String())
	}
}

func TestResolveMetadata(t *testing.T) {
	srv := httptest.NewServer(fakeAWS("203.0.113.77"))
	defer srv.Close()
	cfg := parse(t, "  address: auto\n  advertised: auto\n")
	var logs bytes.Buffer
	got, _, err := Resolve(context.Background(), cfg, Deps{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), InterfaceAddrs: fakeHost, MetadataURL: srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Relay.Address != netip.MustParseAddr("10.0.0.5") || got.Relay.Advertised != netip.MustParseAddr("203.0.113.77") {
		t.Errorf("resolved relay %+v", got.Relay)
	}
	for _, want := range []string{
		`msg="detected relay.address" address=10.0.0.5 source="host interfaces"`,
		`msg="detected relay.advertised" address=203.0.113.77 relay_address=10.0.0.5 source="aws metadata"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
}

func TestResolveFails(t *testing.T) {
	silent := servertest.NewSTUN(t, netip.AddrPort{}, -1)
	empty := httptest.NewServer(fakeGCP("")) // 200 with no address
	defer empty.Close()
	tests := []struct {
		name  string
		relay string
		want  error
		parts []string
	}{
		{"silent STUN server", "  address: 127.0.0.1\n  advertised: auto\n  detect_timeout: 500ms\n  detect_with: [\"" + silent.Addr.String() + "\"]\n",
			ErrPublicAddress, []string{"relay.advertised: auto", "no answer", "set relay.advertised to this host's public address, or list STUN servers in relay.detect_with"}},
		{"no metadata", "  address: 127.0.0.1\n  advertised: auto\n",
			ErrMetadata, []string{"set relay.advertised", "gcp metadata"}},
		{"no host address", "  address: auto\n", ErrHostAddress, []string{"set relay.address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, _, err := Resolve(context.Background(), parse(t, tt.relay), Deps{
				InterfaceAddrs: func() ([]netip.Addr, error) { return addrs("127.0.0.1"), nil }, MetadataURL: empty.URL,
			})
			if elapsed := time.Since(start); elapsed > 4*time.Second {
				t.Errorf("Resolve took %v", elapsed)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Resolve = %v, want %v", err, tt.want)
			}
			for _, part := range tt.parts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
		})
	}
}

func TestResolveNothingAuto(t *testing.T) {
	cfg := parse(t, "  address: 127.0.0.1\n")
	got, d, err := Resolve(context.Background(), cfg, Deps{
		InterfaceAddrs: func() ([]netip.Addr, error) { t.Error("interfaces listed"); return nil, nil },
	})
	if err != nil || got != cfg || d.For.Any() {
		t.Errorf("Resolve = %p, %+v, %v; want the same config and nothing detected", got, d, err)
	}
}
