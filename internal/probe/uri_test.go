package probe

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseURI(t *testing.T) {
	ep := func(host string, port uint16, tr Transport) Endpoint {
		return Endpoint{Host: host, Port: port, Transport: tr}
	}
	for _, tc := range []struct {
		uri  string
		want []Endpoint
	}{
		{"turn:edge.example.com", []Endpoint{ep("edge.example.com", 3478, UDP), ep("edge.example.com", 443, TCP), ep("edge.example.com", 443, TLS)}},
		{"TURN:edge.example.com:3479", []Endpoint{ep("edge.example.com", 3479, UDP)}},
		{"turn:edge.example.com?transport=udp", []Endpoint{ep("edge.example.com", 3478, UDP)}},
		{"turn:edge.example.com?transport=tcp", []Endpoint{ep("edge.example.com", 3478, TCP)}},
		{"turn:192.0.2.1:443?transport=TCP", []Endpoint{ep("192.0.2.1", 443, TCP)}},
		{"turns:edge.example.com", []Endpoint{ep("edge.example.com", 5349, TLS)}},
		{"turns:edge.example.com:443?transport=tcp", []Endpoint{ep("edge.example.com", 443, TLS)}},
		{"turn:[2001:db8::1]:3478?transport=udp", []Endpoint{ep("2001:db8::1", 3478, UDP)}},
		{"turn:[2001:db8::1]", []Endpoint{ep("2001:db8::1", 3478, UDP), ep("2001:db8::1", 443, TCP), ep("2001:db8::1", 443, TLS)}},
		{"stun:edge.example.com", []Endpoint{{Host: "edge.example.com", Port: 3478, Transport: UDP, STUNOnly: true}}},
		{"stun:edge.example.com:19302", []Endpoint{{Host: "edge.example.com", Port: 19302, Transport: UDP, STUNOnly: true}}},
	} {
		got, err := ParseURI(tc.uri)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, %v; want %+v", tc.uri, got, err, tc.want)
		}
	}
}

func TestParseURIErrors(t *testing.T) {
	for _, uri := range []string{
		"", "edge.example.com", "http://edge.example.com", "stuns:edge.example.com", "turn:", "turn:edge.example.com:",
		"turn:edge.example.com:0", "turn:edge.example.com:65536", "turn:edge.example.com:x", "turn:2001:db8::1",
		"turn:[2001:db8::1", "turn:[edge.example.com]", "turn:[2001:db8::1]x", "turn:edge example", "turn:user@edge.example.com",
		"turn:edge.example.com?transport=sctp", "turn:edge.example.com?foo=udp", "stun:edge.example.com?transport=udp",
		"turns:edge.example.com?transport=udp", "turn:edge.example.com/path",
	} {
		if got, err := ParseURI(uri); !errors.Is(err, ErrBadURI) {
			t.Errorf("%q: %+v, %v; want ErrBadURI", uri, got, err)
		}
	}
}

func TestEndpointAddr(t *testing.T) {
	if got := (Endpoint{Host: "2001:db8::1", Port: 443}).Addr(); got != "[2001:db8::1]:443" {
		t.Errorf("Addr %q", got)
	}
}

// FuzzParseURI: any input parses to endpoints with a host and a port, or
// to ErrBadURI, and never panics.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"turn:edge.example.com", "turns:[::1]:443?transport=tcp", "stun:1.2.3.4:3478", "turn:a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		eps, err := ParseURI(uri)
		if err != nil {
			if !errors.Is(err, ErrBadURI) {
				t.Fatalf("error %v is not ErrBadURI", err)
			}
			return
		}
		if len(eps) == 0 {
			t.Fatal("no endpoints and no error")
		}
		for _, ep := range eps {
			if ep.Host == "" || ep.Port == 0 || (ep.Transport != UDP && ep.Transport != TCP && ep.Transport != TLS) {
				t.Fatalf("endpoint %+v", ep)
			}
		}
	})
}
