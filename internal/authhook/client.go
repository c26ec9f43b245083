package authhook

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
)

// Defaults and bounds of Options.
const (
	DefaultTimeout         = 2 * time.Second
	MaxTimeout             = 10 * time.Second
	DefaultCache           = 60 * time.Second
	DefaultNegativeCache   = 10 * time.Second
	DefaultMaxCacheEntries = 10000
	// DefaultMaxInflight bounds the lookups under way at once: beyond it,
	// usernames are refused (Overloaded) rather than queued, so that a
	// flood of made-up usernames cannot pile requests on the service.
	DefaultMaxInflight = 64
)

// Options configure a Client.
type Options struct {
	// URL is the service's https URL (http only to a loopback address).
	URL string
	// TLS is the client's TLS configuration: root CAs (nil: the system's)
	// and the client certificate of mTLS. It is cloned; TLS 1.2 is the
	// least version. Nil: system roots, no client certificate.
	TLS *tls.Config
	// Token, if set, is sent as "Authorization: Bearer <token>".
	Token []byte
	// Timeout bounds a lookup, connection and TLS handshake included;
	// 0 means DefaultTimeout, at most MaxTimeout.
	Timeout time.Duration
	// Cache is how long an allowed answer is reused; 0 means
	// DefaultCache. NegativeCache is how long a refusal or a failure
	// is; 0 means DefaultNegativeCache.
	Cache, NegativeCache time.Duration
	// MaxCacheEntries bounds the cache; 0 means DefaultMaxCacheEntries.
	MaxCacheEntries int
	// MaxInflight bounds the lookups under way; 0 means
	// DefaultMaxInflight.
	MaxInflight int
	// Clock tells the time of cache expiry; nil means clock.Real{}.
	Clock clock.Clock
	// Logger receives the lookups' failures (never a password, key or
	// the token); nil discards them.
	Logger *slog.Logger
}

// Client asks the service for credentials, caching the answers. It is
// safe for concurrent use; Close ends the lookups under way.
type Client struct {
	url      string
	token    string
	http     *http.Client
	timeout  time.Duration
	positive time.Duration
	negative time.Duration
	maxCache int
	maxLive  int
	clk      clock.Clock
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	cache   map[string]entry
	swept   time.Time // when store last dropped the expired entries
	flights map[string]chan struct{}
	closed  bool
	stats   Stats
}

// entry is a cached answer: a credential, or the error of a refusal.
type entry struct {
	cred    auth.Credential
	err     error
	expires time.Time
}

var _ auth.Hook = (*Client)(nil)

// New checks opts and returns a Client.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: URL: %w", ErrBadOptions, err)
	case u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())):
		return nil, fmt.Errorf("%w: URL must be https (or http to a loopback address)", ErrBadOptions)
	case u.User != nil:
		return nil, fmt.Errorf("%w: URL must not hold credentials (use a token)", ErrBadOptions)
	case opts.Timeout < 0 || opts.Timeout > MaxTimeout || opts.Cache < 0 || opts.NegativeCache < 0 ||
		opts.MaxCacheEntries < 0 || opts.MaxInflight < 0:
		return nil, fmt.Errorf("%w: negative or too long a bound", ErrBadOptions)
	}
	tc := &tls.Config{}
	if opts.TLS != nil {
		tc = opts.TLS.Clone()
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	timeout := cmp.Or(opts.Timeout, DefaultTimeout)
	maxLive := cmp.Or(opts.MaxInflight, DefaultMaxInflight)
	tr := &http.Transport{
		// No proxy from the environment: the service is the operator's
		// own, reached directly.
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: timeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: maxLive,
		IdleConnTimeout:     90 * time.Second,
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		url:   opts.URL,
		token: string(opts.Token),
		http: &http.Client{Transport: tr, Timeout: timeout,
			// A redirect is an unexpected answer: refused.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		timeout:  timeout,
		positive: cmp.Or(opts.Cache, DefaultCache),
		negative: cmp.Or(opts.NegativeCache, DefaultNegativeCache),
		maxCache: cmp.Or(opts.MaxCacheEntries, DefaultMaxCacheEntries),
		maxLive:  maxLive,
		clk:      opts.Clock,
		log:      opts.Logger,
		ctx:      ctx,
		cancel:   cancel,
		cache:    make(map[string]entry),
		flights:  make(map[string]chan struct{}),
	}
	if c.clk == nil {
		c.clk = clock.Real{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.stats.Latency.Buckets = make(map[float64]uint64, len(LatencyBuckets))
	return c, nil
}

// Credential implements auth.Hook without blocking: the cached answer for
// q.Username, or an *auth.Pending whose channel closes when a lookup (this
// call's or one already under way for the username) has cached one. A
// refusal matches ErrRefused. Answers are cached by username: the client
// address and transport of q inform the service but do not key the cache.
func (c *Client) Credential(q auth.HookQuery) (auth.Credential, error) {
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return auth.Credential{}, fmt.Errorf("%w: %w", ErrRefused, ErrClosed)
	}
	if e, ok := c.cache[q.Username]; ok {
		if now.Before(e.expires) {
			if e.err != nil {
				c.stats.Outcomes[CachedRefused]++
			} else {
				c.stats.Outcomes[CachedAllowed]++
			}
			return e.cred, e.err
		}
		delete(c.cache, q.Username)
	}
	if done, ok := c.flights[q.Username]; ok {
		return auth.Credential{}, &auth.Pending{Done: done}
	}
	if len(c.flights) >= c.maxLive {
		c.stats.Outcomes[Overloaded]++
		return auth.Credential{}, fmt.Errorf("%w: %w", ErrRefused, ErrOverloaded)
	}
	done := make(chan struct{})
	c.flights[q.Username] = done
	c.wg.Add(1)
	go c.lookup(q, done)
	return auth.Credential{}, &auth.Pending{Done: done}
}

// lookup asks the service about q, caches the answer and closes done.
func (c *Client) lookup(q auth.HookQuery, done chan struct{}) {
	defer c.wg.Done()
	start := time.Now()
	cred, outcome, err := c.ask(q)
	took := time.Since(start)
	switch outcome {
	case Allowed:
		c.log.Debug("auth webhook allowed", "username", q.Username, "took", took)
	case Refused:
		c.log.Debug("auth webhook refused", "username", q.Username, "took", took)
	default:
		c.log.Warn("auth webhook failed: username refused", "username", q.Username, "outcome", outcome.String(), "took", took, "err", err)
	}
	ttl := c.negative
	if err == nil {
		ttl = c.positive
	}
	now := c.clk.Now()
	c.mu.Lock()
	c.store(q.Username, entry{cred: cred, err: err, expires: now.Add(ttl)}, now)
	delete(c.flights, q.Username)
	c.stats.Outcomes[outcome]++
	c.observe(took)
	c.mu.Unlock()
	close(done)
}

// sweepEvery bounds how often a full cache is scanned for expired
// entries: the scan holds c.mu, which every authentication takes, so a
// flood of made-up usernames that keeps the cache full must not make each
// lookup pay for it.
const sweepEvery = time.Second

// store caches e for username. A full cache drops its expired entries (at
// most once every sweepEvery), then, if still full, entries at random
// (Go's map order).
func (c *Client) store(username string, e entry, now time.Time) {
	if len(c.cache) >= c.maxCache {
		if now.Sub(c.swept) >= sweepEvery {
			c.swept = now
			for k, old := range c.cache {
				if !now.Before(old.expires) {
					delete(c.cache, k)
				}
			}
		}
		for k := range c.cache {
			if len(c.cache) < c.maxCache {
				break
			}
			delete(c.cache, k)
		}
	}
	c.cache[username] = e
}

// observe adds a lookup's duration to the latency histogram; c.mu is held.
func (c *Client) observe(d time.Duration) {
	s := d.Seconds()
	h := &c.stats.Latency
	h.Count++
	h.Sum += s
	for _, b := range LatencyBuckets {
		if s <= b {
			h.Buckets[b]++
		}
	}
}

// Stats returns a copy of the counts.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Latency.Buckets = make(map[float64]uint64, len(c.stats.Latency.Buckets))
	for b, n := range c.stats.Latency.Buckets {
		st.Latency.Buckets[b] = n
	}
	return st
}

// Close ends the lookups under way (their usernames are refused) and
// waits for them; later calls of Credential refuse every username.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	c.http.CloseIdleConnections()
}
