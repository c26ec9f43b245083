package edge

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/sessions"
	"github.com/avedge/avedge/internal/turntest"
)

// ha1 returns the HA1 key of user in realm with password as coturn's
// turnadmin -k prints it; the test fails without turnadmin in CI and skips
// without it elsewhere.
func ha1(t *testing.T, user, realm, password string) string {
	t.Helper()
	turnadmin, err := exec.LookPath("turnadmin")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("turnadmin is missing: scripts/install-test-deps installs Debian's coturn package")
		}
		t.Skip("skipping: turnadmin not installed (apt-get install coturn, or run scripts/install-test-deps)")
	}
	out, err := exec.Command(turnadmin, "-k", "-u", user, "-r", realm, "-p", password).Output()
	if err != nil {
		t.Fatalf("turnadmin -k: %v", err)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(line, "0x") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("turnadmin -k printed no key: %q", out)
	return ""
}

// TestUsersFile: a users file line with the HA1 key turnadmin -k makes
// authenticates an allocation; removing the line ends the allocation within
// seconds (its sessions end as revoked) and the user's next request gets
// 401.
func TestUsersFile(t *testing.T) {
	cfg := loopbackDevelopment(t)
	key := ha1(t, "phone7", cfg.Realm, "dial-tone")
	path := filepath.Join(t.TempDir(), "users.txt")
	replace(t, path, []byte("# SIP phones\nphone7:"+cfg.Realm+":"+key+"\nphone8:"+cfg.Realm+":other\n"))
	cfg.Auth.UsersFile = path
	var log logged
	e := runEdge(t, cfg, slog.New(&log))
	ctx := context.Background()

	client := turntest.DialUDP(t, e.relay.Addrs()[0], "phone7", "dial-tone")
	if _, code := client.Allocate(); code != 0 {
		t.Fatalf("Allocate as the users file's HA1 user: %d", code)
	}
	live := func() []string {
		t.Helper()
		ss, err := e.relay.Sessions(ctx, sessions.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var users []string
		for _, s := range ss {
			users = append(users, s.User)
		}
		return users
	}
	if users := live(); !slices.Equal(users, []string{"phone7"}) {
		t.Fatalf("sessions of %q, want phone7's", users)
	}

	replace(t, path, []byte("phone8:"+cfg.Realm+":other\n"))
	deadline := time.Now().Add(5 * usersPoll)
	pace := time.NewTicker(100 * time.Millisecond)
	defer pace.Stop()
	for ; slices.Contains(live(), "phone7"); <-pace.C {
		if time.Now().After(deadline) {
			t.Fatalf("phone7's allocation still live %v after its line was removed", 5*usersPoll)
		}
	}
	if code := client.Refresh(time.Minute); code != stun.CodeUnauthorized {
		t.Fatalf("Refresh of the removed user: %d, want 401", code)
	}
	if lines := log.with("users file reloaded", "removed_or_changed=1", "sessions_ended=1"); len(lines) != 1 {
		t.Errorf("reload logged:\n%s", log.all())
	}
}

// TestUsersWatch: a users file that does not parse keeps the users in
// force (one warning); a changed key or a removed line ends that user's
// sessions, an added or unchanged user's stay.
func TestUsersWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.txt")
	replace(t, path, []byte("a:r:pa\nb:r:pb\nc:r:pc\n"))
	var log logged
	w, err := loadUsers("auth.users_file", auth.DefaultTenant, path, "r", slog.New(&log))
	if err != nil {
		t.Fatal(err)
	}
	var ended []string
	w.end = func(_ context.Context, identity string) (int, error) {
		ended = append(ended, identity)
		return 1, nil
	}
	ctx := context.Background()
	w.poll(ctx)
	if len(ended) != 0 || len(log.with("users file reloaded")) != 0 {
		t.Fatalf("the first poll of the file as loaded ended %q or reloaded:\n%s", ended, log.all())
	}
	replace(t, path, []byte("a:r\n"))
	w.poll(ctx)
	w.poll(ctx)
	if c, ok := w.users.Get("b"); !ok || c.Password != "pb" || len(ended) != 0 {
		t.Fatalf("after a broken file: b %+v %v, ended %q; want the users in force kept", c, ok, ended)
	}
	if n := len(log.with("WARN", "does not load")); n != 1 {
		t.Errorf("%d warnings for one broken file, want 1:\n%s", n, log.all())
	}
	replace(t, path, []byte("a:r:pa\nb:r:new\nd:r:pd\n"))
	w.poll(ctx)
	if !slices.Equal(ended, []string{"b", "c"}) {
		t.Errorf("ended the sessions of %q, want b's (new key) and c's (removed)", ended)
	}
	if _, ok := w.users.Get("d"); !ok {
		t.Error("the added user d is unknown")
	}
}
