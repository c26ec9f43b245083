// Package auth implements avedge's TURN authentication without sockets:
// a rotating Keyring of shared secrets, "TURN REST API" ephemeral
// credentials (the scheme of coturn's use-auth-secret), long-term key
// derivation (RFC 8489 §9.2.2), stateless nonces that any node of a pool
// accepts, and an Authenticator that applies the server steps of RFC 8489
// §9.2.4 to a request.
//
// Usernames, realms and passwords are taken as given: the OpaqueString
// profile (RFC 8265, formerly SASLprep) that RFC 8489 §9.2.2 applies to
// realm and password is not applied. Credentials issued by this package are
// ASCII, for which the profile is the identity, so keys match those of
// clients that do apply it.
//
// Errors are sentinel values to compare with errors.Is; they never contain
// secrets, passwords or keys. Everything time-dependent reads an injected
// clock.Clock.
package auth
