package edge

import (
	"fmt"
	"log/slog"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/records"
)

// openRecords starts the session records writer that cfg asks for, or
// returns nil when records are off.
func openRecords(cfg config.Records, log *slog.Logger) (*records.Writer, error) {
	if cfg.Output == "" {
		return nil, nil
	}
	recs, err := records.Open(cfg.Output, records.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("records.output: %w", err)
	}
	log.Info("writing session records", "output", cfg.Output)
	return recs, nil
}

// ReopenRecords reopens the session records file after log rotation, if
// the edge writes one; on failure records go on to the old file.
func (e *Edge) ReopenRecords() {
	if e.recs == nil {
		return
	}
	if err := e.recs.Reopen(); err != nil {
		e.log.Error("reopening the session records file failed; records go to the old file", "err", err)
	}
}

// closeRecords writes the queued session records and closes their file,
// if the edge writes one.
func (e *Edge) closeRecords() {
	if e.recs == nil {
		return
	}
	if err := e.recs.Close(); err != nil {
		e.log.Error("closing the session records", "err", err)
	}
}
