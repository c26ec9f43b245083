// Package sessions holds what the edge tells an operator about its live
// allocations and what an operator may do to them: the JSON form of a
// session, the revocation of an identity, and the Controller the admin
// endpoints and the `avedge sessions` command drive. It has no logic of its
// own: the relay (internal/server) and the revocation store
// (internal/revocation) implement it, composed by internal/edge.
package sessions
