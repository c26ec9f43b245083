package auth

// Secret is a shared secret for ephemeral credentials, named by an ID so that
// operators can rotate it.
type Secret struct {
	ID    string
	Value []byte
}
