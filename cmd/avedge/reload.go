package main

import (
	"log/slog"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/edge"
)

// reload re-reads the configuration at path ("" is the development edge)
// and applies it to e (see edge.Edge.Apply, which logs the changes that
// need a restart), then reopens the session records file after log
// rotation. The relay addresses it sets to "auto" are those detected at
// start (nothing is detected again); one that was not auto then is logged
// as needing a restart. A configuration that does not load, or that Apply
// refuses, changes nothing.
func reload(e *edge.Edge, path string, detected config.Detected, log *slog.Logger) {
	defer e.ReopenRecords()
	log.Info("reloading the configuration (SIGHUP)", "source", sourceName(path))
	next, err := loadConfig(path)
	if err != nil {
		log.Error("reload failed; the running configuration is unchanged", "err", err)
		return
	}
	for _, w := range next.Warnings() {
		log.Warn(w)
	}
	next, pending, err := next.WithDetected(detected)
	if err != nil {
		log.Error("reload failed; the running configuration is unchanged", "err", err)
		return
	}
	for _, key := range pending {
		log.Warn("a relay address set to auto was not detected at start: detecting it needs a restart", "key", key)
	}
	if _, err := e.Apply(next); err != nil {
		log.Error("reload failed; the running configuration is unchanged", "err", err)
	}
}

// sourceName names the configuration in logs.
func sourceName(path string) string {
	if path == "" {
		return config.DevelopmentSource
	}
	return path
}
