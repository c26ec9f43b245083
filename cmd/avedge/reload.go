package main

import (
	"log/slog"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/edge"
)

// reload re-reads the configuration at path ("" is the development edge)
// and applies it to e (see edge.Edge.Apply, which logs the changes that
// need a restart), then reopens the session records file after log
// rotation. A configuration that does not load, or that Apply refuses,
// changes nothing.
func reload(e *edge.Edge, path string, log *slog.Logger) {
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
