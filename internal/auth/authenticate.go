package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// Authenticate applies the server checks of RFC 8489 §9.2.4, in the RFC's
// order, to request m from client:
//
//  1. Neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256: ErrUnauthenticated
//     (answer 401 with Challenge).
//  2. Integrity present but USERNAME, REALM or NONCE missing, or a
//     MESSAGE-INTEGRITY-SHA256 of a length §14.6 forbids: ErrBadRequest (400).
//     USERHASH does not stand in for USERNAME: we never offer the
//     "Username anonymity" feature, so clients must send USERNAME.
//  3. If the NONCE has a nonce cookie with the "Password algorithms" bit:
//     with neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM the key is MD5;
//     otherwise both must be present, PASSWORD-ALGORITHMS must equal what we
//     offer and PASSWORD-ALGORITHM must be one of its entries, else
//     ErrBadRequest (bid-down). Without the cookie the key is MD5.
//  4. REALM must be that of a tenant this Authenticator accepts (see
//     Bound), whose credentials alone are checked below; the USERNAME must be a static user, a user of
//     the users file (Options.Users; one known by HA1 has only the MD5 key)
//     or an ephemeral username (else ErrUnknownUser and
//     ErrBadUsername) whose expiry has not passed (ErrExpired) and lies at
//     most MaxCredentialLifetime plus MaxClockSkew ahead (ErrTooFarAhead);
//     and its identity must not be revoked (ErrRevoked). The expiry is
//     waived for held, the username of the allocation the request's
//     5-tuple holds (pass "" when it holds none): an allocation outlives
//     its credential, as browsers keep one username for an allocation's
//     whole life (see Options.StrictExpiry, which waives nothing).
//     A username that is none of these goes to the Options.Hook, if any,
//     once the nonce has been verified (so that a spoofed or replayed
//     request makes no external lookup; a bad one fails as in step 6):
//     the Hook's refusal matches ErrUnknownUser; a lookup under way
//     returns a *Pending (ErrPending, no ErrUnauthenticated), for the
//     caller to authenticate the request again when its Done is closed.
//  5. Message integrity, MESSAGE-INTEGRITY-SHA256 when present (even
//     alongside MESSAGE-INTEGRITY) and MESSAGE-INTEGRITY otherwise, with the
//     key of each candidate password (one per active secret) in constant
//     time per candidate; none matches: ErrBadIntegrity.
//  6. The nonce last, as the RFC orders it: ErrStaleNonce or ErrBadNonce
//     (answer 438 with a fresh nonce). A request replayed from another
//     transport address carries valid integrity but fails here. With these
//     two errors the Result is filled in, since the request's integrity was
//     verified, so the 438 may be signed.
//
// The errors of steps 1, 4 and 5 all match ErrUnauthenticated. m must not be
// used concurrently (MESSAGE-INTEGRITY checking rewrites its length field
// temporarily).
func (a *Authenticator) Authenticate(m *stun.Message, client netip.AddrPort, held string) (Result, error) {
	return a.AuthenticateOn("", m, client, held)
}

// AuthenticateOn is Authenticate for a request that arrived over
// transport ("udp", "tcp", "tls", ...), which the Hook is told.
func (a *Authenticator) AuthenticateOn(transport string, m *stun.Message, client netip.AddrPort, held string) (Result, error) {
	hasMI := m.Contains(stun.AttrMessageIntegrity)
	hasMI256 := m.Contains(stun.AttrMessageIntegritySHA256)
	if !hasMI && !hasMI256 {
		return Result{}, ErrUnauthenticated
	}

	var (
		username stun.Username
		realm    stun.Realm
		nonce    stun.Nonce
	)
	if username.GetFrom(m) != nil || realm.GetFrom(m) != nil || nonce.GetFrom(m) != nil {
		return Result{}, fmt.Errorf("%w: USERNAME, REALM or NONCE missing", ErrBadRequest)
	}
	if hasMI256 {
		// RFC 8489 §14.6: 16 to 32 bytes, a multiple of 4.
		v, _ := m.Get(stun.AttrMessageIntegritySHA256)
		if len(v) < 16 || len(v) > 32 || len(v)%4 != 0 {
			return Result{}, fmt.Errorf("%w: MESSAGE-INTEGRITY-SHA256 length %d", ErrBadRequest, len(v))
		}
	}

	alg, err := a.passwordAlgorithm(m, nonce.String())
	if err != nil {
		return Result{}, err
	}

	res, err := a.AuthenticateWith(transport, username.String(), realm.String(), nonce.String(), client, held, func(c Credential) []byte {
		key := c.LongTermKey(alg, username.String(), realm.String())
		if key == nil || checkIntegrity(m, key, hasMI256) != nil {
			return nil
		}
		return key
	})
	res.SHA256 = hasMI256 && res.Key != nil
	return res, err
}

// AuthenticateWith applies steps 4 to 6 of Authenticate to a request of a
// dialect whose message integrity the caller checks (the [MS-TURN]
// dialect): the realm must be ours and the username known, unexpired (or
// held, as for Authenticate) and not revoked; verify is called with each
// candidate credential (a password, or a users file's HA1 key) and returns the key that
// verified the request's integrity, or nil; the nonce is checked last. The
// key verify returned is the Result's Key, and SHA256 is false: the
// caller knows which MAC its dialect used. transport is the client's
// transport, for the Hook (see AuthenticateOn).
func (a *Authenticator) AuthenticateWith(transport, username, realm, nonce string, client netip.AddrPort, held string, verify func(Credential) []byte) (Result, error) {
	t := a.accept[realm]
	if t == nil {
		return Result{}, fmt.Errorf("%w: realm is not ours", ErrUnauthenticated)
	}
	res, creds, err := a.lookup(t, username, held)
	if err != nil && t.hook != nil && errors.Is(err, ErrUnknownUser) {
		res, creds, err = a.ask(t, HookQuery{Username: username, Realm: realm, Client: client, Transport: transport}, nonce)
	}
	if err != nil {
		return Result{}, err
	}
	res.Tenant, res.TenantIndex = t.name, t.index
	for _, c := range creds {
		if key := verify(c); key != nil {
			res.Key = key
			break
		}
	}
	if res.Key == nil {
		return Result{}, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrBadIntegrity)
	}
	if err := a.nonces.Verify(nonce, client); err != nil {
		return res, err
	}
	return res, nil
}

// passwordAlgorithm applies the bid-down rules of RFC 8489 §9.2.4 and returns
// the algorithm of the long-term key.
func (a *Authenticator) passwordAlgorithm(m *stun.Message, nonce string) (uint16, error) {
	if !noncePasswordAlgorithms(nonce) {
		return stunproto.AlgMD5, nil
	}
	hasAlgs := m.Contains(stun.AttrPasswordAlgorithms)
	hasAlg := m.Contains(stun.AttrPasswordAlgorithm)
	if !hasAlgs && !hasAlg {
		return stunproto.AlgMD5, nil
	}
	if !hasAlgs || !hasAlg {
		return 0, fmt.Errorf("%w: PASSWORD-ALGORITHM without PASSWORD-ALGORITHMS or vice versa", ErrBadRequest)
	}
	var algs stunproto.PasswordAlgorithms
	if err := algs.GetFrom(m); err != nil || !algs.Equal(a.algorithms) {
		return 0, fmt.Errorf("%w: PASSWORD-ALGORITHMS differs from the offer", ErrBadRequest)
	}
	var alg stunproto.PasswordAlgorithm
	if err := alg.GetFrom(m); err != nil || !algs.Contains(alg) {
		return 0, fmt.Errorf("%w: PASSWORD-ALGORITHM not offered", ErrBadRequest)
	}
	return alg.Algorithm, nil
}

// MaxClockSkew is how far ahead of this node's clock the clock of the node
// that issued a credential may run: a credential of the maximum lifetime,
// issued by a node whose clock is ahead by up to MaxClockSkew, is still
// accepted. The credential's own expiry is never extended.
const MaxClockSkew = 60 * time.Second

// lookup validates username of tenant t, which may be past its expiry if
// it is held (see Authenticate), and returns the partial Result and the
// candidate credentials.
func (a *Authenticator) lookup(t *tenant, username, held string) (Result, []Credential, error) {
	now := a.clk.Now()
	c, ok := Credential{Password: t.static[username]}, t.static[username] != ""
	if !ok && t.users != nil {
		c, ok = t.users.Get(username)
	}
	if ok {
		if a.revoked != nil && a.revoked(username, time.Time{}, now) {
			return Result{}, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrRevoked)
		}
		return Result{Username: username, Identity: username}, []Credential{c}, nil
	}
	if t.keyring == nil {
		return Result{}, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrUnknownUser)
	}
	expiry, identity, err := ParseUsername(username)
	if err != nil {
		return Result{}, nil, fmt.Errorf("%w: %w: %w", ErrUnauthenticated, ErrUnknownUser, ErrBadUsername)
	}
	past := !now.Before(expiry)
	if past && (a.strict || username != held) {
		return Result{}, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrExpired)
	}
	if expiry.Sub(now) > a.maxLifetime+MaxClockSkew {
		return Result{}, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrTooFarAhead)
	}
	if a.revoked != nil && a.revoked(identity, expiry, now) {
		return Result{}, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrRevoked)
	}
	secrets := t.keyring.load()
	creds := make([]Credential, len(secrets))
	for i := range secrets {
		creds[i] = Credential{Password: secrets[i].password(username)}
	}
	return Result{Username: username, Identity: identity, Expires: expiry, PastExpiry: past}, creds, nil
}

// ask asks the Hook of tenant t about a username no local source knows,
// once nonce is verified for the client: a request from a spoofed source,
// or one replayed from another address, makes no external lookup.
func (a *Authenticator) ask(t *tenant, q HookQuery, nonce string) (Result, []Credential, error) {
	if err := a.nonces.Verify(nonce, q.Client); err != nil {
		return Result{}, nil, err
	}
	c, err := t.hook.Credential(q)
	switch {
	case errors.Is(err, ErrPending):
		return Result{}, nil, err
	case err != nil:
		return Result{}, nil, fmt.Errorf("%w: %w: %w", ErrUnauthenticated, ErrUnknownUser, err)
	case a.revoked != nil && a.revoked(q.Username, time.Time{}, a.clk.Now()):
		return Result{}, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrRevoked)
	}
	return Result{Username: q.Username, Identity: q.Username}, []Credential{c}, nil
}

// checkIntegrity verifies m's MESSAGE-INTEGRITY-SHA256 (sha) or
// MESSAGE-INTEGRITY with key.
func checkIntegrity(m *stun.Message, key []byte, sha bool) error {
	if sha {
		return stunproto.NewMessageIntegritySHA256(key).Check(m)
	}
	return stun.MessageIntegrity(key).Check(m)
}
