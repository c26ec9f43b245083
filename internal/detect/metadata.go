package detect

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

const (
	// MetadataURL is the base URL of the metadata services of AWS, GCP and
	// Azure.
	MetadataURL = "http://169.254.169.254"
	// metadataTimeout bounds each metadata request.
	metadataTimeout = time.Second
	// maxMetadataBody bounds what is read of an answer: an address or an
	// IMDSv2 token is far shorter.
	maxMetadataBody = 512
	// awsTokenTTL is the lifetime, in seconds, of the IMDSv2 token asked
	// for: it is used at once.
	awsTokenTTL = "60"
)

// cloud is one metadata service: its name in logs ("aws metadata") and how
// to ask it for the public IPv4 address.
type cloud struct {
	name string
	ask  func(ctx context.Context, c *http.Client, base string) (string, error)
}

// clouds are the metadata services asked, in the order their answers are
// preferred.
var clouds = []cloud{
	{"aws metadata", askAWS},
	{"gcp metadata", askGCP},
	{"azure metadata", askAzure},
}

// Metadata asks the metadata services of AWS (IMDSv2: a session token
// first), GCP and Azure at base (MetadataURL on a cloud VM) for the VM's
// public IPv4 address, all at once, each within a second and all within
// ctx, directly (never through a proxy), and returns the public address
// they agree on and the source ("aws metadata", ...). Failures wrap
// ErrMetadata and say what each service answered.
func Metadata(ctx context.Context, base string) (addr netip.Addr, source string, err error) {
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
			DialContext: (&net.Dialer{Timeout: metadataTimeout}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	base = strings.TrimSuffix(base, "/")
	type answer struct {
		addr netip.Addr
		err  error
	}
	answers := make([]answer, len(clouds))
	var wg sync.WaitGroup
	for i, c := range clouds {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
			defer cancel()
			s, err := c.ask(ctx, client, base)
			if err == nil {
				var a netip.Addr
				a, err = publicIPv4(s)
				answers[i].addr = a
			}
			answers[i].err = err
		})
	}
	wg.Wait()
	var problems []string
	for i, a := range answers {
		switch {
		case a.err != nil:
			problems = append(problems, clouds[i].name+": "+a.err.Error())
		case !addr.IsValid():
			addr, source = a.addr, clouds[i].name
		case a.addr != addr:
			return netip.Addr{}, "", fmt.Errorf("%w: %s says %s, %s says %s", ErrMetadata, source, addr, clouds[i].name, a.addr)
		}
	}
	if !addr.IsValid() {
		return netip.Addr{}, "", fmt.Errorf("%w: %s", ErrMetadata, strings.Join(problems, "; "))
	}
	return addr, source, nil
}

// askAWS asks AWS's IMDSv2 for a session token, then for public-ipv4 with
// it.
func askAWS(ctx context.Context, c *http.Client, base string) (string, error) {
	token, err := get(ctx, c, http.MethodPut, base+"/latest/api/token",
		map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": awsTokenTTL})
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return get(ctx, c, http.MethodGet, base+"/latest/meta-data/public-ipv4",
		map[string]string{"X-aws-ec2-metadata-token": token})
}

// askGCP asks GCP for the external IP of the first access config of the
// first network interface.
func askGCP(ctx context.Context, c *http.Client, base string) (string, error) {
	return get(ctx, c, http.MethodGet,
		base+"/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip",
		map[string]string{"Metadata-Flavor": "Google"})
}

// askAzure asks Azure's instance metadata service for the public IP of the
// first address of the first interface.
func askAzure(ctx context.Context, c *http.Client, base string) (string, error) {
	return get(ctx, c, http.MethodGet,
		base+"/metadata/instance/network/interface/0/ipv4/ipAddress/0/publicIpAddress?api-version=2021-02-01&format=text",
		map[string]string{"Metadata": "true"})
}

// get sends a request with the headers and returns the body of a 200
// answer, trimmed, at most maxMetadataBody bytes.
func get(ctx context.Context, c *http.Client, method, url string, headers map[string]string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBody+1))
	switch {
	case err != nil:
		return "", err
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("%s", resp.Status)
	case len(body) > maxMetadataBody:
		return "", fmt.Errorf("answer longer than %d bytes", maxMetadataBody)
	}
	return strings.TrimSpace(string(body)), nil
}

// publicIPv4 parses s as a public IPv4 address.
func publicIPv4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Errorf("%.40q: not an IP address", s)
	case !a.Is4() || !isPublic(a):
		return netip.Addr{}, fmt.Errorf("%s: not a public IPv4 address", a)
	}
	return a, nil
}

// cgnat is the shared address space of RFC 6598.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPublic reports whether a may be reachable from the internet: a global
// unicast address outside private and shared address space.
func isPublic(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}
