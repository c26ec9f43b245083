package config

// MSTurn switches the enterprise UC dialect on or off: [MS-TURN] on the
// client listeners (beside RFC TURN), pseudo-TLS on the TCP listeners and
// MRAS on the credential service's port, for Lync and Skype for Business
// clients and their front ends.
type MSTurn struct {
	// Enabled serves the dialect (default true). Off, MS-TURN datagrams
	// are dropped as malformed, pseudo-TLS and MS framing fail as broken
	// TLS or TURN, and MRAS requests get the HTTP API's 400.
	Enabled bool `json:"enabled"`
}

// defaultMSTurn returns the dialect's defaults: served.
func defaultMSTurn() MSTurn { return MSTurn{Enabled: true} }

// msTurn decodes the ms_turn section.
func (p *parser) msTurn(e entry, dst *MSTurn) error {
	_, err := p.mapping(e, []field{
		{"enabled", func(e entry) error {
			b, err := p.boolean(e)
			dst.Enabled = b
			return err
		}},
	})
	return err
}
