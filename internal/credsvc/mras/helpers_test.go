package mras

import (
	"testing"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
)

// service is a credential service on loopback with a fake clock, MRAS
// switched on.
type service struct {
	*credsvctest.Service
	t *testing.T
}

// startService runs a service with MRAS; mod and smod may change its
// options.
func startService(t *testing.T, mod func(*credsvc.Options), smod func(*credsvc.ServerOptions)) *service {
	t.Helper()
	s := credsvctest.StartService(t, mod, func(o *credsvc.ServerOptions) {
		o.MRAS = New(o.Handler.(*credsvc.Handler)) // the service's Handler
		if smod != nil {
			smod(o)
		}
	})
	return &service{Service: s, t: t}
}

// handlerEnv is a Service answering requests without sockets.
type handlerEnv struct {
	*credsvctest.HandlerEnv
	svc *Service
}

// newHandlerEnv returns a Service on a Handler with the test options,
// which mod may change.
func newHandlerEnv(t testing.TB, mod func(*credsvc.Options)) *handlerEnv {
	t.Helper()
	e := credsvctest.NewHandlerEnv(t, mod)
	return &handlerEnv{HandlerEnv: e, svc: New(e.Handler)}
}
