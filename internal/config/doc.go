// Package config loads and validates avedge's YAML configuration.
//
// The format is strict: an unknown key, a duplicate key, a value of the wrong
// type or out of range is an error that names the file, the line and column
// and the dotted key path (for example
// "edge.yaml:12:3: relay.ports: "60000-50000": first port above last port").
// Only the first problem found is reported; every such error wraps ErrInvalid.
//
// A parsed Config has every default filled in. Development builds the
// zero-configuration development edge used by "avedge serve" without a file.
// Secret values never appear in errors, in Config.String or in the JSON form
// of a Config.
package config
