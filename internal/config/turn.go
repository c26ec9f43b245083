package config

// Turn holds switches of the TURN protocol itself.
type Turn struct {
	// StrictChannelNumbers binds only the channel numbers RFC 8656
	// allows, 0x4000-0x4FFF. Off (the default), ChannelBind also takes
	// RFC 5766's 0x5000-0x7FFF, which older clients (coturn's
	// turnutils_uclient among them) pick from: RFC 8656 narrowed the range
	// for clients that multiplex DTLS-SRTP on one socket (RFC 7983), which
	// the edge's client sockets never do.
	StrictChannelNumbers bool `json:"strict_channel_numbers"`
}

// turn decodes the turn section.
func (p *parser) turn(e entry, dst *Turn) error {
	_, err := p.mapping(e, []field{
		{"strict_channel_numbers", func(e entry) error {
			b, err := p.boolean(e)
			dst.StrictChannelNumbers = b
			return err
		}},
	})
	return err
}
