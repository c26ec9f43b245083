package browser

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/avedge/avedge/internal/edgetest"
)

// serveICE serves the page (testdata) and, on GET /ice, the RTCIceServer
// s whatever transport the page asks for, on 127.0.0.1 until the test
// ends, and returns the page's address asking for "tls": the application
// of an edge that startApp cannot ask (one the test runs from the shipped
// binary, with static users).
func serveICE(t *testing.T, s edgetest.ICEServer) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir("testdata")))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /ice", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/?transport=tls"
}
