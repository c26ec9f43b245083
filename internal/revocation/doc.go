// Package revocation holds the identities an operator has revoked: an
// immutable Set that TURN authentication consults on every request, and a
// Store that keeps the set in a JSON file so that revocations survive a
// restart, writes it when an operator revokes or lifts, and watches it for
// changes made by another writer (another node of a pool sharing the file,
// an operator or a configuration-management tool editing it, a Kubernetes
// ConfigMap swapping its symlinks).
//
// A Revocation refuses an identity's credentials as sessions.Revocation
// describes: every credential until Until (for ever when Until is zero),
// and after Until the ephemeral credentials that might have been issued
// before the revocation, those whose expiry is at most At plus the maximum
// credential lifetime plus auth.MaxClockSkew. A revocation that can refuse
// nothing any more (its Until and that bound have both passed) is dropped
// when the file is loaded or written.
//
// # File format
//
// The file is one JSON object, decoded strictly:
//
//	{
//	  "version": 1,
//	  "revocations": [
//	    {"identity": "alice", "at": "2026-12-07T10:00:00Z"},
//	    {"identity": "bob", "at": "2026-12-07T10:00:00Z", "until": "2026-12-08T10:00:00Z"}
//	  ]
//	}
//
// "version" is required and must be 1. Each revocation needs an
// "identity" (non-empty, at most 128 bytes, UTF-8, printable characters
// only: the identity rules of internal/auth) and an "at" (RFC 3339); "until"
// (RFC 3339) is optional, absent or empty meaning until lifted. A missing
// "revocations" means none. Field names match as encoding/json matches them
// (case-insensitively). An unknown field, a second revocation of the same
// identity (there is no "last wins": the file is refused), data after the
// object, more than 100 000 revocations in force or a file over 16 MiB make
// the whole file invalid: it is refused with an error naming the file and
// the fault (with its line and column when the JSON itself is at fault),
// and the revocations loaded before stay in force. A missing file means
// nothing is revoked.
//
// The Store writes the file atomically (a temporary file in the same
// directory, synced, then renamed over it) with mode 0600, sorted by
// identity. A hand-written file should be replaced the same way, so that a
// reader never sees it half-written.
package revocation
