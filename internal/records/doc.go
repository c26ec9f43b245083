// Package records writes session records: one JSON object per line for
// every allocation that ended, for audit and billing.
//
// The server hands records over on its packet workers, which must never
// wait: Writer.Write only queues a record, and a single goroutine encodes
// and writes them. When the queue is full the record is dropped and
// counted.
package records
