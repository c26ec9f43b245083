package config

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"everything", &Error{File: "edge.yaml", Line: 12, Column: 3, Key: "relay.ports", Msg: "bad"}, "edge.yaml:12:3: relay.ports: bad"},
		{"no column", &Error{File: "edge.yaml", Line: 4, Msg: "YAML syntax error: x"}, "edge.yaml:4: YAML syntax error: x"},
		{"no position", &Error{File: "edge.yaml", Msg: "empty configuration"}, "edge.yaml: empty configuration"},
		{"no file", &Error{Line: 2, Column: 1, Key: "realm", Msg: "required"}, "2:1: realm: required"},
		{"message only", &Error{Msg: "m"}, "m"},
		{"key only", &Error{Key: "k", Msg: "m"}, "k: m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			wrapped := fmt.Errorf("loading: %w", tt.err)
			if !errors.Is(wrapped, ErrInvalid) {
				t.Errorf("errors.Is(wrapped, ErrInvalid) = false")
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, err := parseString(t, t.TempDir(), base+"relya: {}\n")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	want := Error{File: "edge.yaml", Line: 11, Column: 1, Key: "relya", Msg: `unknown key (did you mean "relay"?)`}
	if *e != want {
		t.Errorf("error = %+v, want %+v", *e, want)
	}
}
