package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the configuration file at path. Relative secret
// file paths in it resolve against the file's directory; ${NAME} in string
// values is replaced by the process's environment variable NAME. A file
// that holds secrets inline and that all users may read draws a warning.
func Load(path string) (*Config, error) {
	data, mode, err := readConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse(path, filepath.Dir(path), data, os.LookupEnv, mode)
}

// readConfigFile returns the content of the file at path and its mode.
func readConfigFile(path string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	data, err := io.ReadAll(f)
	return data, info.Mode(), err
}

// Parse parses the configuration in data, as ParseEnv does with an empty
// environment.
func Parse(name, dir string, data []byte) (*Config, error) {
	return ParseEnv(name, dir, data, noEnv)
}

// ParseEnv parses the configuration in data. name is the file name used in
// errors and as Config.Source; relative secret file paths resolve against
// dir; env looks up the variables that string values name as ${NAME} (as
// os.LookupEnv does). Errors about the content are *Error values wrapping
// ErrInvalid.
func ParseEnv(name, dir string, data []byte, env func(string) (string, bool)) (*Config, error) {
	return parse(name, dir, data, env, 0)
}

// parse is ParseEnv of a file whose mode is mode (0: not a file).
func parse(name, dir string, data []byte, env func(string) (string, bool), mode fs.FileMode) (*Config, error) {
	p := &parser{file: name, dir: dir, env: env, cfg: defaults(), at: make(map[string]entry)}
	p.cfg.Source = name
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	p.root = entry{at: root, val: root}
	if err := p.top(); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	p.warnInlineSecrets(mode)
	p.cfg.warnings = p.warnings
	return p.cfg, nil
}

// parser holds the state of one Parse.
type parser struct {
	file, dir string
	env       func(string) (string, bool)
	cfg       *Config
	warnings  []string
	// root is the top-level mapping.
	root entry
	// at records every decoded key by path, for checks that span keys.
	at map[string]entry
	// inline lists the keys holding a secret or a password written in
	// the configuration itself.
	inline []string
	// tenantEntries are the entries of the tenants, for finishTenants.
	tenantEntries []tenantParse
}

// warn records a warning about key.
func (p *parser) warn(key, format string, args ...any) {
	p.warnings = append(p.warnings, key+": "+fmt.Sprintf(format, args...))
}

// where returns the node of the first of paths that was decoded, or the
// top-level mapping: the place to report a key that is missing or that
// conflicts with another.
func (p *parser) where(paths ...string) *yaml.Node {
	for _, path := range paths {
		if e, ok := p.at[path]; ok {
			return e.at
		}
	}
	return p.root.at
}

// document returns the top-level mapping of data, which must hold exactly
// one YAML document.
func (p *parser) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, &Error{File: p.file, Msg: "empty configuration"}
	}
	if err != nil {
		return nil, p.syntax(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Error{File: p.file, Line: next.Line, Column: next.Column, Msg: "more than one YAML document"}
	case !errors.Is(err, io.EOF):
		return nil, p.syntax(err)
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		return nil, &Error{File: p.file, Msg: "empty configuration"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: p.file, Line: root.Line, Column: root.Column, Msg: "expected a mapping at the top level, got " + describe(root)}
	}
	return root, nil
}

// syntax turns a YAML parser error ("yaml: line 3: ...") into an *Error.
func (p *parser) syntax(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				line, msg = n, after
			}
		}
	}
	if parserProblems[msg] {
		// The YAML library numbers the lines of parser (as opposed to
		// scanner) errors from 0, and leaves line 0 out.
		line++
	}
	return &Error{File: p.file, Line: line, Msg: "YAML syntax error: " + msg}
}

// parserProblems are the messages of go.yaml.in/yaml/v3's parser errors,
// whose line numbers start at 0.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// top decodes the top-level keys.
func (p *parser) top() error {
	c := p.cfg
	_, err := p.mapping(p.root, []field{
		{"realm", func(e entry) error { return p.realm(e, &c.Realm) }},
		{"software", func(e entry) error { return p.software(e, &c.Software) }},
		{"advertise_host", func(e entry) error { return p.advertiseHost(e, &c.AdvertiseHost) }},
		{"workers", func(e entry) error {
			n, err := p.integer(e, 0, maxWorkers)
			c.Workers = n
			return err
		}},
		{"datapath", func(e entry) error { return p.dataPath(e, &c.DataPath) }},
		{"log", func(e entry) error { return p.log(e, &c.Log) }},
		{"interfaces", func(e entry) error { return p.interfaces(e, &c.Interfaces) }},
		{"listeners", func(e entry) error { return p.listeners(e, &c.Listeners) }},
		{"relay", func(e entry) error { return p.relay(e, &c.Relay) }},
		{"auth", func(e entry) error { return p.auth(e, &c.Auth) }},
		{"lifetimes", func(e entry) error { return p.lifetimes(e, &c.Lifetimes) }},
		{"peers", func(e entry) error { return p.peers(e, &c.Peers) }},
		{"quotas", func(e entry) error { return p.quotas(e, &c.Quotas) }},
		{"limits", func(e entry) error { return p.limits(e, &c.Limits) }},
		{"credential_service", func(e entry) error { return p.credentialService(e, &c.CredentialService) }},
		{"admin", func(e entry) error { return p.admin(e, &c.Admin) }},
		{"records", func(e entry) error { return p.records(e, &c.Records) }},
		{"drain", func(e entry) error { return p.drain(e, &c.Drain) }},
		{"pool", func(e entry) error { return p.pool(e, &c.Pool) }},
		{"ms_turn", func(e entry) error { return p.msTurn(e, &c.MSTurn) }},
		{"turn", func(e entry) error { return p.turn(e, &c.Turn) }},
		{"tenants", func(e entry) error { return p.tenants(e, &c.Tenants) }},
	})
	return err
}

// finish applies the checks and defaults that span several keys, after
// every key has been decoded.
func (p *parser) finish() error {
	c := p.cfg
	if c.Realm == "" {
		return p.failAt(p.where("realm"), "realm", "required")
	}
	for _, check := range []func() error{
		p.finishListeners,
		p.finishInterfaces,
		p.finishRelay,
		p.finishAuth,
		p.finishLifetimes,
		p.finishQuotas,
		p.finishTenants,
		p.finishCredentialService,
		p.finishAlternates,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}
