package credsvc_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// FuzzRequests sends arbitrary bodies to POST /v1/credentials and
// arbitrary queries to GET /v1/turn-credentials: every answer must be 200
// with a correctly signed credential within max_ttl, or a 4xx JSON error;
// never a 5xx.
func FuzzRequests(f *testing.F) {
	f.Add(`{"identity":"alice"}`, "username=alice")
	f.Add(`{"identity":"alice","location":"intranet","ttl":"90m"}`, "service=turn&username=alice&ttl=600&key=k")
	f.Add(`{"identity":"a","ttl":"-1h"}`, "username=a&ttl=0")
	f.Add(`{"identity":"a"}{"identity":"b"}`, "username=a&username=b")
	f.Add(`{"identity":"\u0000"}`, "username=%00")
	f.Add(`{"identity":"x","ttl":"9999999h"}`, "username=x&ttl=99999999999999999999")
	f.Add(`{"identity":"a","Identity":"b","x":{"k":1,"K":2}}`, "username=a&ttl=18446744073709551616")
	f.Add("{\"identity\":\"\xff\"}", "username=%FF")
	e := newHandlerEnv(f, func(o *credsvc.Options) {
		o.Rate = credsvc.Rate{PerSecond: 1e9, Burst: 1 << 30}
		o.Logger = slog.New(slog.DiscardHandler)
	})
	verified := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{e.App}, VerifiedChains: [][]*x509.Certificate{{e.App}}}
	f.Fuzz(func(t *testing.T, body, query string) {
		check := func(status int, raw []byte) {
			t.Helper()
			switch {
			case status == http.StatusOK:
				var c credsvc.RESTCredential
				if err := json.Unmarshal(raw, &c); err != nil {
					t.Fatalf("200 with %q: %v", raw, err)
				}
				expiry, _, err := auth.ParseUsername(c.Username)
				if err != nil || c.Password != auth.RESTPassword(credsvctest.SecretA.Value, c.Username) {
					t.Fatalf("bad credential %+v", c)
				}
				if c.TTL < 1 || c.TTL > int64(8*time.Hour/time.Second) || expiry.Unix() != e.Clock.Now().Unix()+c.TTL {
					t.Fatalf("ttl %d, expiry %v", c.TTL, expiry)
				}
			case status >= 400 && status < 500:
				var eb credsvc.ErrorBody
				if err := json.Unmarshal(raw, &eb); err != nil || eb.Error == "" {
					t.Fatalf("%d with %q", status, raw)
				}
			default:
				t.Fatalf("status %d: %s", status, raw)
			}
		}
		r := httptest.NewRequest(http.MethodPost, credsvc.CredentialsPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.TLS = verified
		w := httptest.NewRecorder()
		e.Handler.ServeHTTP(w, r)
		check(w.Code, w.Body.Bytes())
		// The raw query as a server would see it, even one no client sends.
		r = httptest.NewRequest(http.MethodGet, credsvc.TURNCredentialsPath, nil)
		r.URL.RawQuery = query
		r.TLS = verified
		w = httptest.NewRecorder()
		e.Handler.ServeHTTP(w, r)
		check(w.Code, w.Body.Bytes())
	})
}
