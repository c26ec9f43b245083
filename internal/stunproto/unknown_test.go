package stunproto

import (
	"slices"
	"testing"

	"github.com/pion/stun/v3"
)

func TestUnknownComprehensionRequired(t *testing.T) {
	known := func(t stun.AttrType) bool {
		switch t {
		case stun.AttrRequestedTransport, stun.AttrLifetime:
			return true
		}
		return false
	}
	raw := func(typ stun.AttrType) stun.Setter { return stun.RawAttribute{Type: typ, Value: []byte{1, 2, 3, 4}} }
	tests := []struct {
		name    string
		setters []stun.Setter
		want    []stun.AttrType
	}{
		{"all known", []stun.Setter{RequestedTransport{Protocol: ProtoUDP}, Lifetime{}}, nil},
		{"optional unknown ignored", []stun.Setter{raw(0x8777), stun.NewSoftware("x")}, nil},
		{"required unknown", []stun.Setter{raw(0x0777), RequestedTransport{}, raw(0x7FFF)}, []stun.AttrType{0x0777, 0x7FFF}},
		{"duplicates listed once", []stun.Setter{raw(0x0777), raw(0x0777), raw(0x0001)}, []stun.AttrType{0x0777, 0x0001}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := build(t, tc.setters...)
			prefix := []stun.AttrType{0x0042}
			got := UnknownComprehensionRequired(m, known, prefix)
			if !slices.Equal(got, append(prefix, tc.want...)) {
				t.Errorf("got %v, want prefix + %v", got, tc.want)
			}
		})
	}
}
