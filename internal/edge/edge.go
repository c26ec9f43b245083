package edge

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/acme"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/authhook"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/metrics"
	"github.com/avedge/avedge/internal/offload"
	"github.com/avedge/avedge/internal/records"
	"github.com/avedge/avedge/internal/server"
)

// Deps are what an edge takes from its process besides the configuration.
type Deps struct {
	// Logger receives the edge's logs; nil discards them.
	Logger *slog.Logger
	// Clock is the time source of the relay and of certificate checks;
	// nil means the wall clock.
	Clock clock.Clock
	// Version is the version of the build, exported by /metrics.
	Version string
}

// Edge is a running edge: the relay and, as configured, the credential
// service, the session records writer and the admin endpoints. Build
// makes it, Run serves it, Apply changes it, Close releases it.
type Edge struct {
	log   *slog.Logger
	relay *server.Server
	svc   *credentialService // nil without a credential service
	recs  *records.Writer    // nil without session records
	admin *adminEndpoints
	// control is the session control of the admin endpoints, and
	// follows the revocations file while the edge runs.
	control     *sessionControl
	revokedPoll time.Duration
	// self are the edge's own addresses the relay was built with
	// (server.Options.Self), which watchSelf keeps up to date.
	self []netip.Addr
	// usersWatch keeps the users of the users file up to date
	// (watchUsers); nil without one.
	usersWatch *usersWatch
	// acme are the ACME managers of the listeners with tls.acme, which
	// run with the edge and survive reloads.
	acme []*acme.Manager
	// hook asks the auth webhook; nil without one.
	hook *authhook.Client
	// offload is the eBPF offload the relay drives (datapath.offload);
	// nil when off.
	offload *offload.Loader
	// tenants are the credential sources of the tenants beside the
	// default one (their users files are watched with watchUsers).
	tenants *tenantSources

	// mu serialises Apply.
	mu   sync.Mutex
	live reloader
}

// Build makes the edge that cfg, a validated configuration, describes and
// binds its sockets; nothing serves until Run. On error, whatever it had
// opened is closed again.
func Build(cfg *config.Config, deps Deps) (*Edge, error) {
	log, clk := deps.Logger, deps.Clock
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clk == nil {
		clk = clock.Real{}
	}
	e := &Edge{log: log, admin: &adminEndpoints{}}
	keyring, err := newKeyring(cfg.Auth)
	if err != nil {
		return nil, err
	}
	revoked, err := openRevocations(cfg, log, clk)
	if err != nil {
		return nil, err
	}
	if e.usersWatch, err = loadUsers("auth.users_file", auth.DefaultTenant, cfg.Auth.UsersFile, cfg.Realm, log); err != nil {
		return nil, err
	}
	var users *auth.Users
	if e.usersWatch != nil {
		users = e.usersWatch.users
	}
	if e.hook, err = newWebhook("auth.webhook", cfg.Auth.Webhook, log, clk); err != nil {
		return nil, err
	}
	var hook auth.Hook // nil, not a nil *authhook.Client, without a webhook
	if e.hook != nil {
		hook = e.hook
	}
	if e.tenants, err = newTenantSources(cfg, log, clk); err != nil {
		e.Close()
		return nil, err
	}
	opts, managers, err := relayOptions(cfg, keyring, users, hook, e.tenants.opts, revoked, log, clk)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.acme = managers
	if e.offload, err = openOffload(cfg.DataPath.Offload, opts, log); err != nil {
		e.Close()
		return nil, err
	}
	if e.offload != nil {
		opts.Offload = e.offload
	}
	if e.recs, err = openRecords(cfg.Records, log); err != nil {
		e.Close()
		return nil, err
	}
	if e.recs != nil {
		opts.OnAllocationEnd = e.recs.Write
		opts.OnInterim, opts.InterimRecords = e.recs.Write, cfg.Records.Interim
	}
	if e.relay, err = server.New(opts); err != nil {
		e.Close()
		return nil, err
	}
	e.control = &sessionControl{relay: e.relay, store: revoked, clk: clk, log: log}
	e.revokedPoll = cfg.Auth.RevocationsPoll
	e.self = opts.Self
	warnEphemeral(log, cfg.Relay.PortMin, cfg.Relay.PortMax, os.ReadFile)
	for _, a := range e.relay.Addrs() {
		log.Info("listening", "protocol", "udp", "address", a.String())
	}
	for _, a := range e.relay.StreamAddrs() {
		log.Info("listening", "protocol", "tcp", "address", a.String())
	}
	m := metrics.Options{Server: e.relay, Version: deps.Version}
	if e.recs != nil {
		m.Records = e.recs
	}
	if e.hook != nil {
		m.AuthWebhook = e.hook
	}
	if e.offload != nil {
		m.Offload = e.offload
	}
	if cfg.CredentialService != nil {
		if e.svc, err = newCredentialService(cfg, keyring, log, clk.Now()); err != nil {
			e.Close()
			return nil, err
		}
		m.Credentials = e.svc.server
		log.Info("credential service listening", "address", "https://"+e.svc.server.Addr().String(),
			"trusted_clients", cfg.CredentialService.TrustedClients)
	}
	e.live = reloader{started: cfg, applied: cfg, keyring: keyring, svc: e.svc,
		certs: listenerCerts(opts), certFiles: listenerCertFiles(cfg), relay: e.relay, log: log, clock: clk}
	m.Certificates = listenerCertificates{e}
	if e.admin, err = startAdmin(cfg.Admin, m, e.relay.Drain, e.control, log); err != nil {
		e.admin = &adminEndpoints{}
		e.Close()
		return nil, err
	}
	return e, nil
}

// listenerCertFiles returns the certificate files of cfg's TLS listeners
// that have them (not those with ACME), by address.
func listenerCertFiles(cfg *config.Config) map[netip.AddrPort]config.ListenerTLS {
	files := make(map[netip.AddrPort]config.ListenerTLS)
	for _, l := range cfg.Listeners {
		if l.TLS != nil && l.TLS.ACME == nil {
			files[l.Address] = *l.TLS
		}
	}
	return files
}

// listenerCerts returns the certificate stores of the TLS listeners of
// opts, by address.
func listenerCerts(opts server.Options) map[netip.AddrPort]*server.CertStore {
	certs := make(map[netip.AddrPort]*server.CertStore)
	for _, sl := range opts.StreamListeners {
		if sl.Certs != nil {
			certs[sl.Addr] = sl.Certs
		}
	}
	return certs
}

// Run serves the relay and the credential service (if any) until ctx is
// done, either fails or the relay has drained (see Drain), which stops
// both, and returns the first failure. /readyz answers ready from the
// start until then; the admin endpoints go on answering until Close.
func (e *Edge) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	running := 1
	go func() { errc <- e.relay.Run(ctx) }()
	if e.svc != nil {
		running++
		go func() { errc <- e.svc.server.Run(ctx) }()
	}
	watchers := []func(){
		func() { e.control.watchRevocations(ctx, e.revokedPoll) },
		func() { e.watchSelf(ctx, e.live.started, e.self, selfRefresh, net.InterfaceAddrs, e.relay.SetSelf) },
		func() { e.watchCerts(ctx, certPoll) },
		func() { e.watchUsers(ctx, usersPoll) },
	}
	for _, m := range e.acme {
		watchers = append(watchers, func() { m.Run(ctx) })
	}
	var watching sync.WaitGroup
	for _, w := range watchers {
		watching.Go(w)
	}
	defer watching.Wait()
	e.admin.SetReady(true)
	notReady := context.AfterFunc(ctx, func() { e.admin.SetReady(false) })
	defer notReady()
	e.log.Info("serving")
	var first error
	for range running {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
		cancel()
	}
	e.admin.SetReady(false)
	return first
}

// Drain turns /readyz not ready and drains the relay: new allocations are
// refused (or sent to the alternate servers), live ones keep working, and
// Run returns once the last has ended or the drain timed out (see
// server.Server.Drain).
func (e *Edge) Drain() {
	e.admin.SetReady(false)
	e.relay.Drain()
}

// Close stops the edge: it stops the relay, ending its allocations, and
// the credential service if Run did not, writes the queued session records
// (the allocations ended last included) and stops the admin endpoints. It
// waits for all of them.
func (e *Edge) Close() {
	for _, m := range e.acme {
		m.Close()
	}
	if e.relay != nil {
		e.relay.Close()
	}
	if e.offload != nil {
		// After the relay: its end of every allocation read the
		// counters back.
		if err := e.offload.Close(); err != nil {
			e.log.Warn("closing the offload", "err", err)
		}
	}
	if e.hook != nil {
		e.hook.Close()
	}
	if e.tenants != nil {
		e.tenants.close()
	}
	if e.svc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := e.svc.server.Shutdown(ctx); err != nil {
			e.log.Warn("stopping the credential service", "err", err)
		}
		cancel()
	}
	e.closeRecords()
	e.admin.Stop()
}

// shutdownTimeout bounds how long Close waits for the credential service's
// requests to finish.
const shutdownTimeout = 5 * time.Second
