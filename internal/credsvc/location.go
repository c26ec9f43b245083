package credsvc

// Location is where the client that will use a credential sits; it selects
// the relay addresses handed out.
type Location string

const (
	// Internet clients reach the relay's external addresses.
	Internet Location = "internet"
	// Intranet clients reach the relay's internal addresses.
	Intranet Location = "intranet"
)

// Valid reports whether l is Internet or Intranet.
func (l Location) Valid() bool { return l == Internet || l == Intranet }
