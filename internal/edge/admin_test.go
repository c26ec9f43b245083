package edge

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/metrics"
)

// TestAdminOff checks that without an admin section nothing listens (no
// server, no "listening" line) and that the endpoints' methods are safe
// to call.
func TestAdminOff(t *testing.T) {
	var logs bytes.Buffer
	adm, err := startAdmin(nil, metrics.Options{}, nil, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if adm.srv != nil || logs.Len() != 0 {
		t.Fatalf("admin endpoints started without an admin section (logged %q)", logs.String())
	}
	adm.SetReady(true)
	adm.Stop()
}

// TestDrainRequested: a drain requested on the admin endpoint with the
// token ends Run and is reported by DrainRequested; one without the token
// is refused and drains nothing; a drain by Drain (a signal) is not
// reported as requested. The start log names the token file.
func TestDrainRequested(t *testing.T) {
	for _, viaAdmin := range []bool{true, false} {
		cfg := loopbackDevelopment(t)
		var log logged
		e, err := Build(cfg, Deps{Logger: slog.New(&log)})
		if err != nil {
			t.Fatal(err)
		}
		if lines := log.with("admin endpoints listening", "token_file="+cfg.Admin.TokenFile); len(lines) != 1 {
			t.Errorf("the admin endpoints' start log does not name the token file: %q", log.all())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		url := "http://" + e.admin.srv.Addr().String() + "/drain"
		if code := post(t, url, ""); code != http.StatusUnauthorized {
			t.Fatalf("POST /drain without the token: %d, want 401", code)
		}
		if viaAdmin {
			if code := post(t, url, string(cfg.Admin.Token)); code != http.StatusAccepted {
				t.Fatalf("POST /drain with the token: %d, want 202", code)
			}
		} else {
			select {
			case err := <-done:
				t.Fatalf("Run returned before any drain: %v", err)
			default:
			}
			e.Drain()
		}
		if err := <-done; err != nil || ctx.Err() != nil {
			t.Fatalf("Run: %v (context: %v)", err, ctx.Err())
		}
		if got := e.DrainRequested(); got != viaAdmin {
			t.Errorf("DrainRequested() = %v after a drain on the admin endpoint: %v", got, viaAdmin)
		}
		cancel()
		e.Close()
	}
}

// post sends POST url with token as a bearer token (none when empty) and
// returns the status.
func post(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
