package config

// Log configures logging.
type Log struct {
	// Format is "text" or "json".
	Format string `json:"format"`
	// Level is "debug", "info", "warn" or "error".
	Level string `json:"level"`
}

var (
	logFormats = []string{"text", "json"}
	logLevels  = []string{"debug", "info", "warn", "error"}
)

// defaultLog returns the default logging configuration.
func defaultLog() Log { return Log{Format: "text", Level: "info"} }

// log decodes the log section.
func (p *parser) log(e entry, dst *Log) error {
	_, err := p.mapping(e, []field{
		{"format", func(e entry) error { return p.oneOf(e, logFormats, &dst.Format) }},
		{"level", func(e entry) error { return p.oneOf(e, logLevels, &dst.Level) }},
	})
	return err
}
