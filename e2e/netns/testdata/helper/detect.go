package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/stun/v3"
)

// stunServe answers STUN Binding requests on the UDP address listen with
// the request's source in XOR-MAPPED-ADDRESS, as a STUN server on the
// internet does, for timeout; it prints {"listening":true} once it
// listens and {"stun_requests":N} at the end.
func stunServe(listen string, timeout time.Duration) error {
	pc, err := net.ListenPacket("udp", listen)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	defer pc.Close()
	if err := printJSON(map[string]bool{"listening": true}); err != nil {
		return err
	}
	_ = pc.SetReadDeadline(time.Now().Add(timeout))
	requests := 0
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return printJSON(map[string]int{"stun_requests": requests})
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if m.Decode() != nil || m.Type != stun.BindingRequest {
			continue
		}
		requests++
		ua := from.(*net.UDPAddr)
		res, err := stun.Build(m, stun.BindingSuccess, &stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.Fingerprint)
		if err == nil {
			_, _ = pc.WriteTo(res.Raw, from)
		}
	}
}

// imdsToken is the IMDSv2 session token imdsServe hands out.
const imdsToken = "netns-imdsv2-token"

// imdsServe serves AWS's IMDSv2 on the TCP address listen for timeout:
// PUT /latest/api/token (with a TTL header) gives a token, and GET
// /latest/meta-data/public-ipv4 with it answers ip; everything else is
// 404, as the other clouds' paths are on AWS. It prints {"listening":true}
// once it listens and one line per request:
// {"method":M,"path":P,"token":true if it carried the token}.
func imdsServe(listen, ip string, timeout time.Duration) error {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	var mu sync.Mutex
	report := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_ = printJSON(map[string]any{"method": r.Method, "path": r.URL.Path,
			"token": r.Header.Get("X-aws-ec2-metadata-token") == imdsToken})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		report(r)
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" &&
			r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") != "":
			_, _ = w.Write([]byte(imdsToken))
		case r.Method == http.MethodGet && r.URL.Path == "/latest/meta-data/public-ipv4":
			if r.Header.Get("X-aws-ec2-metadata-token") != imdsToken {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(ip))
		default:
			http.NotFound(w, r)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := printJSON(map[string]bool{"listening": true}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("helper: %w", err)
	}
	return nil
}
