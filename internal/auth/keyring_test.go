package auth

import (
	"errors"
	"sync"
	"testing"
)

func TestNewKeyringValidation(t *testing.T) {
	tests := []struct {
		name    string
		secrets []Secret
		err     error
	}{
		{"one", []Secret{{ID: "a", Value: []byte("x")}}, nil},
		{"two", []Secret{{ID: "a", Value: []byte("x")}, {ID: "b", Value: []byte("y")}}, nil},
		{"none", nil, ErrBadSecret},
		{"empty value", []Secret{{ID: "a"}}, ErrBadSecret},
		{"empty id", []Secret{{Value: []byte("x")}}, ErrBadSecret},
		{"duplicate id", []Secret{{ID: "a", Value: []byte("x")}, {ID: "a", Value: []byte("y")}}, ErrBadSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := NewKeyring(tc.secrets)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && len(k.All()) != len(tc.secrets) {
				t.Errorf("All() has %d secrets, want %d", len(k.All()), len(tc.secrets))
			}
		})
	}
}

func TestKeyringSetNewestAll(t *testing.T) {
	in := []Secret{{ID: "new", Value: []byte("n")}, {ID: "old", Value: []byte("o")}}
	k, err := NewKeyring(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Value[0] = 'X' // the keyring holds a copy
	if got := k.Newest(); got.ID != "new" || string(got.Value) != "n" {
		t.Errorf("Newest = %+v", got)
	}
	all := k.All()
	all[1].Value[0] = 'X'
	if got := k.All(); got[0].ID != "new" || got[1].ID != "old" || string(got[1].Value) != "o" {
		t.Errorf("All = %+v", got)
	}
	if err := k.Set([]Secret{{ID: "dup", Value: []byte("1")}, {ID: "dup", Value: []byte("2")}}); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Set(duplicates) = %v", err)
	}
	if got := k.Newest(); got.ID != "new" {
		t.Errorf("failed Set changed the keyring: %+v", got)
	}
	if err := k.Set([]Secret{{ID: "newer", Value: []byte("z")}}); err != nil {
		t.Fatal(err)
	}
	if got := k.All(); len(got) != 1 || got[0].ID != "newer" {
		t.Errorf("after Set, All = %+v", got)
	}
	var zero Keyring
	if got := zero.Newest(); got.ID != "" || len(zero.All()) != 0 {
		t.Errorf("zero keyring Newest = %+v", got)
	}
}

func TestKeyringConcurrent(t *testing.T) {
	k, err := NewKeyring([]Secret{{ID: "0", Value: []byte("v0")}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if s := k.Newest(); len(s.Value) == 0 {
					t.Error("empty newest secret")
					return
				}
				_ = k.All()
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			if err := k.Set([]Secret{{ID: "a", Value: []byte{byte(i), 1}}, {ID: "b", Value: []byte("b")}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
}
