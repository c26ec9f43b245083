package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/avedge/avedge/internal/config"
)

// configFormats are the outputs of avedge config check, by --format value.
var configFormats = map[string]func(*config.Config) ([]byte, error){
	"yaml": configYAML,
	"json": configJSON,
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with configuration files",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newConfigCheckCmd())
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	var file, format string
	cmd := &cobra.Command{
		Use:   "check --config FILE [--format yaml|json]",
		Short: "Validate a configuration as serve does, and print it with every default filled in",
		Long: `Load the configuration file exactly as "avedge serve --config FILE" does before
it binds anything, and print the effective configuration, every default filled
in, with secret values shown as REDACTED:

  --format yaml  YAML (the default)
  --format json  the configuration's JSON form, indented

Each warning goes to stderr as "warning: KEY: MESSAGE"; warnings do not fail
the check. An invalid configuration prints nothing on stdout, and its error
(file, line, column and key) on stderr; the exit status is then 1 (2 for a
usage error).

Checked, as serve checks them: the YAML and every key, type and range; the
${NAME} environment variables, expanded from this process's environment; the
secret files, the nonce key file and the admin token file, which are read;
the TLS certificates, keys and CA files, which are loaded and matched; the
addresses against the interfaces section.

Not checked, because they need the real host or write to it: that the
listener, relay, credential service and admin addresses can be bound (an
address not on this host, or a port in use, fails only when serve binds it);
whether the relay ports overlap the host's ephemeral port range (serve warns);
opening records.output and auth.revocations_file, which serve creates; the
relay addresses set to "auto", which serve detects when it starts: they are
printed as "auto" (and a "note:" line on stderr names them), and nothing is
bound or sent to find them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			render, ok := configFormats[format]
			if !ok {
				return usageError(fmt.Errorf("--format %q: want yaml or json", format))
			}
			if file == "" {
				return usageError(errors.New("--config FILE is required"))
			}
			cfg, err := config.Load(file)
			if err != nil {
				return err
			}
			out, err := render(cfg)
			if err != nil {
				return err
			}
			if _, err := cmd.OutOrStdout().Write(out); err != nil {
				return err
			}
			if err := writeWarnings(cmd.ErrOrStderr(), cfg.Warnings()); err != nil {
				return err
			}
			if keys := cfg.Relay.Auto.Keys(); len(keys) > 0 {
				_, err = fmt.Fprintf(cmd.ErrOrStderr(), "note: %s: auto: detected when serve starts (config check binds and sends nothing)\n",
					strings.Join(keys, ", "))
			}
			return err
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "configuration file (required)")
	cmd.Flags().StringVar(&format, "format", "yaml", "output: yaml or json")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

// writeWarnings writes each warning to w as a "warning: " line.
func writeWarnings(w io.Writer, warnings []string) error {
	for _, warning := range warnings {
		if _, err := fmt.Fprintln(w, "warning:", warning); err != nil {
			return err
		}
	}
	return nil
}

// configJSON returns cfg's JSON form, indented, secrets redacted.
func configJSON(cfg *config.Config) ([]byte, error) {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("config check: %w", err)
	}
	return append(b, '\n'), nil
}

// configYAML returns cfg's JSON form, secrets redacted, written as YAML
// in block style with the keys in the order of the JSON form.
func configYAML(cfg *config.Config) ([]byte, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("config check: %w", err)
	}
	// JSON is YAML: decoding into a node keeps the key order, and
	// dropping the flow and quoted styles lets the encoder pick block
	// style, quoting only the strings that would read as another type.
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config check: %w", err)
	}
	plainStyle(&doc)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("config check: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config check: %w", err)
	}
	return out.Bytes(), nil
}

// plainStyle clears the style of n and of every node under it.
func plainStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plainStyle(c)
	}
}
