package allocation

import "testing"

func TestFiveTupleString(t *testing.T) {
	tests := []struct {
		ft   FiveTuple
		want string
	}{
		{FiveTuple{ap("198.51.100.7:40000"), ap("203.0.113.1:3478"), UDP}, "udp 198.51.100.7:40000->203.0.113.1:3478"},
		{FiveTuple{ap("[2001:db8::7]:40000"), ap("[2001:db8::1]:443"), TCP}, "tcp [2001:db8::7]:40000->[2001:db8::1]:443"},
		{FiveTuple{ap("198.51.100.7:1"), ap("203.0.113.1:2"), Protocol(132)}, "132 198.51.100.7:1->203.0.113.1:2"},
	}
	for _, tt := range tests {
		if got := tt.ft.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
