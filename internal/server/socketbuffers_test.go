package server

import "testing"

func TestSocketBuffersDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      SocketBuffers
		want    SocketBuffers
		wantErr bool
	}{
		{"zero takes defaults", SocketBuffers{},
			SocketBuffers{ClientRecv: 4 << 20, ClientSend: 4 << 20, RelayRecv: 256 << 10, RelaySend: 256 << 10}, false},
		{"set fields kept", SocketBuffers{ClientRecv: 1 << 20, RelaySend: 8192},
			SocketBuffers{ClientRecv: 1 << 20, ClientSend: 4 << 20, RelayRecv: 256 << 10, RelaySend: 8192}, false},
		{"negative refused", SocketBuffers{RelayRecv: -1}, SocketBuffers{}, true},
	}
	for _, tt := range tests {
		got, err := tt.in.withDefaults()
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("%s: withDefaults() = %+v, %v; want %+v (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
	if cfg := (SocketBuffers{RelayRecv: 1000}).relay(); cfg.RecvBuffer != 1000 || !cfg.RecvDrops || !cfg.RecvTOS || cfg.ReusePort {
		t.Errorf("relay() = %+v", cfg)
	}
	if cfg := (SocketBuffers{ClientSend: 2000}).client(); cfg.SendBuffer != 2000 || !cfg.RecvDrops || !cfg.RecvTOS || !cfg.ReusePort {
		t.Errorf("client() = %+v", cfg)
	}
}
