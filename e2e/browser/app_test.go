package browser

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/avedge/avedge/internal/edgetest"
)

// transports are the ICE server transports the page can ask /ice for.
var transports = []string{"udp", "tcp", "tls"}

// identity is the user the application asks credentials for.
const identity = "alice"

// webApp is the web application of the tests: it serves the page from
// testdata and, on GET /ice?transport=udp|tcp|tls, an RTCIceServer. With
// credential=wrong in the query it alters the password, as a broken
// application would.
type webApp struct {
	// URL is the page's address, "http://127.0.0.1:port/".
	URL string
}

// startApp asks the credential service of e for one credential per
// transport, over mutual TLS, and serves the application on 127.0.0.1 until
// the test ends. The credentials are fetched here, on the test's goroutine,
// since edgetest fails the test on error and an HTTP handler may not.
func startApp(t *testing.T, e *edgetest.Edge) *webApp {
	t.Helper()
	ice := make(map[string]edgetest.ICEServer, len(transports))
	for _, tr := range transports {
		ice[tr] = e.ICEServers(t, identity, tr)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir("testdata")))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /ice", func(w http.ResponseWriter, r *http.Request) {
		s, ok := ice[r.URL.Query().Get("transport")]
		if !ok {
			http.Error(w, "transport must be udp, tcp or tls", http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("credential") == "wrong" {
			s.Credential = alter(s.Credential)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &webApp{URL: srv.URL + "/"}
}

// alter returns password with its first character changed.
func alter(password string) string {
	if password == "" || password[0] != 'A' {
		return "A" + password[min(1, len(password)):]
	}
	return "B" + password[1:]
}
