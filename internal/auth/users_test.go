package auth

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/stunproto"
)

// coturnHA1 is what coturn's turnadmin -k -u ninefingers -r north.gov -p
// youhavetoberealistic prints (coturn's documentation has the same
// example).
const coturnHA1 = "0xbc807ee29df3c9ffa736523fb2c4e8ee"

func TestParseUsersFile(t *testing.T) {
	data := "# SIP phones\n" +
		"ninefingers:north.gov:" + coturnHA1 + "\n" +
		"\n" +
		"phone-7:north.gov:pass:with:colons\r\n" +
		"  # indented comment\n"
	users, err := ParseUsersFile("users.txt", []byte(data), "north.gov")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 {
		t.Fatalf("%d users, want 2: %v", len(users), users)
	}
	nf := users["ninefingers"]
	if nf.Password != "" || string(nf.LongTermKey(stunproto.AlgMD5, "ninefingers", "north.gov")) != string(Key(stunproto.AlgMD5, "ninefingers", "north.gov", "youhavetoberealistic")) {
		t.Errorf("ninefingers: %+v, want the HA1 of its password", nf)
	}
	if nf.LongTermKey(stunproto.AlgSHA256, "ninefingers", "north.gov") != nil {
		t.Error("an HA1 user has a SHA-256 key")
	}
	if users["phone-7"].Password != "pass:with:colons" {
		t.Errorf("phone-7: %+v, want the password after the second colon", users["phone-7"])
	}
}

func TestParseUsersFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"no key", "alice:north.gov\n", "users.txt:1: not username:realm:key"},
		{"empty user", "\n:north.gov:pw\n", "users.txt:2: empty username"},
		{"other realm", "alice:south.gov:pw\n", `users.txt:1: the realm field is not the edge's realm "north.gov"`},
		{"password without realm", "alice:se:cret\n", `users.txt:1: the realm field is not`},
		{"empty key", "alice:north.gov:\n", `users.txt:1: user "alice": empty key`},
		{"short HA1", "alice:north.gov:0xbc80\n", `users.txt:1: user "alice": an HA1 key is 0x and 32 hexadecimal digits`},
		{"duplicate", "alice:north.gov:a\nbob:north.gov:b\nalice:north.gov:c\n", `users.txt:3: user "alice" again (line 1)`},
		{"control character", "al\x01ice:north.gov:pw\n", "users.txt:1: username"},
		{"too large", strings.Repeat("#", MaxUsersFileSize+1), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUsersFile("users.txt", []byte(tc.data), "north.gov")
			if !errors.Is(err, ErrBadUsersFile) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrBadUsersFile with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "pw") && tc.name != "control character" {
				t.Errorf("error %q quotes a key", err)
			}
		})
	}
}

// TestAuthenticateUsersFile: a users file's HA1 user authenticates with
// MESSAGE-INTEGRITY over the MD5 key, not with a SHA-256 key (the password
// is unknown); a password user with either; Set replaces the table, so a
// removed user is unknown at once.
func TestAuthenticateUsersFile(t *testing.T) {
	f := newFixture(t)
	var users Users
	ha1 := hex.EncodeToString(Key(stunproto.AlgMD5, "ninefingers", testRealm, "youhavetoberealistic"))
	table, err := ParseUsersFile("users.txt", []byte("ninefingers:"+testRealm+":0x"+ha1+"\nphone:"+testRealm+":secret\n"), testRealm)
	if err != nil {
		t.Fatal(err)
	}
	users.Set(table)
	a, err := NewAuthenticator(Options{Realm: testRealm, Nonces: f.nonces, Clock: f.clk, Users: &users})
	if err != nil {
		t.Fatal(err)
	}
	sha := stunproto.PasswordAlgorithm{Algorithm: stunproto.AlgSHA256}
	md5 := request{username: "ninefingers", realm: testRealm, password: "youhavetoberealistic", nonce: f.nonces.Issue(clientA), mi: true}
	if res, err := a.Authenticate(md5.build(t), clientA, ""); err != nil || res.Identity != "ninefingers" {
		t.Fatalf("HA1 user with the MD5 key: %+v, %v", res, err)
	}
	shaReq := md5
	shaReq.mi, shaReq.mi256, shaReq.keyAlg, shaReq.algs, shaReq.alg = false, true, stunproto.AlgSHA256, offered, &sha
	shaReq.nonce = f.nonces.Issue(clientA)
	if _, err := a.Authenticate(shaReq.build(t), clientA, ""); !errors.Is(err, ErrBadIntegrity) {
		t.Fatalf("HA1 user with a SHA-256 key: %v, want ErrBadIntegrity", err)
	}
	phone := request{username: "phone", realm: testRealm, password: "secret", nonce: f.nonces.Issue(clientA), mi: true}
	if _, err := a.Authenticate(phone.build(t), clientA, ""); err != nil {
		t.Fatalf("password user: %v", err)
	}
	users.Set(map[string]Credential{"phone": {Password: "secret"}})
	if _, err := a.Authenticate(md5.build(t), clientA, ""); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("a user removed from the table: %v, want ErrUnknownUser", err)
	}
}
