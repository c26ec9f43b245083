// Package recordfile reads the session records an edge writes to its
// records.output file (one JSON object a line, as internal/records writes them) for
// the e2e module's tests.
package recordfile
