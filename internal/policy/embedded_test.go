package policy

import (
	"net/netip"
	"slices"
	"testing"
)

func TestEmbeddedV4(t *testing.T) {
	tests := []struct {
		ip   string
		want []string
	}{
		{"::127.0.0.1", []string{"127.0.0.1"}},
		{"::ffff:0:10.0.0.1", []string{"10.0.0.1"}},
		{"64:ff9b::7f00:1", []string{"127.0.0.1"}},
		{"64:ff9b:1:a9fe:a9:fe00::", []string{"169.254.169.254", "254.169.254.0", "169.254.0.0", "0.0.0.0"}},
		{"2002:c000:0201::1", []string{"192.0.2.1"}},
		{teredo("192.0.2.45", "10.0.0.1").String(), []string{"192.0.2.45", "10.0.0.1"}},
		{"fe80::5efe:10.0.0.2", []string{"10.0.0.2"}},
		{"2002:808:808:1:200:5efe:10.0.0.2", []string{"8.8.8.8", "10.0.0.2"}},
		{"2001:4860:4860::8888", nil},
		{"64:ff9b:2::1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			b := netip.MustParseAddr(tt.ip).As16()
			var out [maxEmbedded]uint32
			n := embeddedV4(&b, &out)
			var got []string
			for _, x := range out[:n] {
				got = append(got, v4addr(x).String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("embeddedV4(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}
