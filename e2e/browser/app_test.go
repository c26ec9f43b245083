package browser

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server/stats"
)

// transports are the ICE server transports the page can ask /ice for.
var transports = []string{"udp", "tcp", "tls"}

// identity is the user the application asks credentials for.
const identity = "alice"

// webApp is the web application of the tests: it serves the page from
// testdata and, on GET /ice?transport=udp|tcp|tls, an RTCIceServer. With
// credential=wrong in the query it alters the password, as a broken
// application would. On POST /hangup, which the "call" scenario sends
// before it closes its connections, it takes the edge's counters.
type webApp struct {
	// URL is the page's address, "http://127.0.0.1:port/".
	URL string
	// ice holds the RTCIceServer of each transport.
	ice map[string]edgetest.ICEServer
	// hangup holds the edge's counters at the first POST /hangup.
	hangup chan stats.Stats
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
	app := &webApp{ice: ice, hangup: make(chan stats.Stats, 1)}
	mux.HandleFunc("POST /hangup", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case app.hangup <- e.Stats():
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "already hung up", http.StatusConflict)
		}
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
	app.URL = srv.URL + "/"
	return app
}

// credentialExpiry is when the credential the application hands out for
// transport expires, from its username.
func (a *webApp) credentialExpiry(t *testing.T, transport string) time.Time {
	t.Helper()
	expiry, _, err := auth.ParseUsername(a.ice[transport].Username)
	if err != nil {
		t.Fatalf("%s credential username: %v", transport, err)
	}
	return expiry
}

// hungUp returns the edge's counters when the page hung up, failing the
// test if it did not.
func (a *webApp) hungUp(t *testing.T) stats.Stats {
	t.Helper()
	select {
	case s := <-a.hangup:
		return s
	default:
		t.Fatal("the page did not hang up (POST /hangup)")
		return stats.Stats{}
	}
}

// alter returns password with its first character changed.
func alter(password string) string {
	if password == "" || password[0] != 'A' {
		return "A" + password[min(1, len(password)):]
	}
	return "B" + password[1:]
}
