package config

// MSTurn switches the enterprise UC dialect on or off: [MS-TURN] on the
// client listeners (beside RFC TURN), pseudo-TLS on the TCP and TLS
// listeners and MRAS on the credential service's port, for Lync and Skype
// for Business clients and their front ends.
type MSTurn struct {
	// Enabled serves the dialect: off by default in a configuration file,
	// since the dialect has replay windows RFC TURN does not have and
	// lets TLS listeners take pseudo-TLS, and on in the development edge.
	// Off, MS-TURN datagrams are dropped as malformed, pseudo-TLS and MS
	// framing fail as broken TLS or TURN, and MRAS requests get the HTTP
	// API's 400.
	Enabled bool `json:"enabled"`
}

// defaultMSTurn returns the dialect's defaults: not served unless asked
// for.
func defaultMSTurn() MSTurn { return MSTurn{Enabled: false} }

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
