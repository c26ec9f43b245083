package detect

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// awsToken is the IMDSv2 session token of fakeAWS.
const awsToken = "AQAEAFake-imdsv2-token=="

// fakeAWS answers like AWS's IMDSv2: public-ipv4 only with the token of a
// PUT /latest/api/token that asked for a lifetime.
func fakeAWS(ip string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "missing ttl", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(awsToken))
	})
	mux.HandleFunc("GET /latest/meta-data/public-ipv4", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-aws-ec2-metadata-token") != awsToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(ip))
	})
	return mux
}

// fakeGCP answers like GCP's metadata server.
func fakeGCP(ip string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip" ||
			r.Header.Get("Metadata-Flavor") != "Google" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(ip))
	})
}

// fakeAzure answers like Azure's instance metadata service.
func fakeAzure(ip string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/metadata/instance/network/interface/0/ipv4/ipAddress/0/publicIpAddress" ||
			r.Header.Get("Metadata") != "true" || q.Get("api-version") == "" || q.Get("format") != "text" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(ip))
	})
}

func TestMetadata(t *testing.T) {
	tests := []struct {
		name    string
		handler http.Handler
		source  string
	}{
		{"aws", fakeAWS("203.0.113.5\n"), "aws metadata"},
		{"gcp", fakeGCP("203.0.113.5"), "gcp metadata"},
		{"azure", fakeAzure("203.0.113.5"), "azure metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			got, source, err := Metadata(ctxFor(t, 2*time.Second), srv.URL)
			if err != nil || got != netip.MustParseAddr("203.0.113.5") || source != tt.source {
				t.Fatalf("Metadata = %v, %q, %v; want 203.0.113.5 from %s", got, source, err, tt.source)
			}
		})
	}
}

func TestMetadataRefuses(t *testing.T) {
	both := http.NewServeMux()
	both.Handle("/latest/", fakeAWS("203.0.113.5"))
	both.Handle("/computeMetadata/", fakeGCP("198.51.100.9"))
	stall := make(chan struct{})
	tests := []struct {
		name    string
		handler http.Handler
		want    []string
	}{
		{"IMDSv2 without a token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			fakeAWS("203.0.113.5").ServeHTTP(w, r)
		}), []string{"aws metadata: token: 403"}},
		{"private address", fakeGCP("10.0.0.5"), []string{"10.0.0.5: not a public IPv4 address"}},
		{"not an address", fakeAzure("<html>"), []string{"not an IP address"}},
		{"too long", fakeGCP(strings.Repeat("1", 2000)), []string{"longer than"}},
		{"disagreement", both, []string{"203.0.113.5", "198.51.100.9"}},
		{"stalls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}), []string{"aws metadata", "gcp metadata", "azure metadata"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			start := time.Now()
			got, _, err := Metadata(ctxFor(t, 5*time.Second), srv.URL)
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Metadata took %v; each request is bounded by %v", elapsed, metadataTimeout)
			}
			if !errors.Is(err, ErrMetadata) {
				t.Fatalf("Metadata = %v, %v; want ErrMetadata", got, err)
			}
			for _, part := range tt.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
		})
	}
	close(stall)
}
