package credsvc

// Request is the JSON body of POST /v1/credentials.
type Request struct {
	// Identity names the user the credential is for: 1 to 128 bytes of
	// printable UTF-8. It becomes the part of the username after the
	// expiry.
	Identity string `json:"identity"`
	// Location selects the relay addresses; empty means Internet.
	Location Location `json:"location,omitempty"`
	// TTL is a Go duration such as "8h"; empty means the maximum. Longer
	// lifetimes are cut to the maximum.
	TTL string `json:"ttl,omitempty"`
}

// Credential is the answer of POST /v1/credentials.
type Credential struct {
	// Username is "<unix-expiry>:<identity>".
	Username string `json:"username"`
	// Password is base64(HMAC-SHA1(secret, username)).
	Password string `json:"password"`
	// TTL is the lifetime in seconds.
	TTL int64 `json:"ttl"`
	// ExpiresAt is the expiry, RFC 3339 in UTC.
	ExpiresAt string `json:"expires_at"`
	// Realm is the relay's REALM.
	Realm string `json:"realm"`
	// URIs are the RFC 7065 URIs of the relays, for an RTCIceServer.
	URIs []string `json:"uris"`
	// Relays are the relay addresses the URIs are made of.
	Relays []Relay `json:"relays"`
}

// RESTCredential is the answer of GET /v1/turn-credentials, in the shape
// of the TURN REST API (draft-uberti-behave-turn-rest-00).
type RESTCredential struct {
	// Username is "<unix-expiry>:<identity>".
	Username string `json:"username"`
	// Password is base64(HMAC-SHA1(secret, username)).
	Password string `json:"password"`
	// TTL is the lifetime in seconds.
	TTL int64 `json:"ttl"`
	// URIs are the RFC 7065 URIs of the relays.
	URIs []string `json:"uris"`
}
