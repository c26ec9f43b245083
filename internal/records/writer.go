package records

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/server/stats"
)

const (
	// DefaultQueueSize is how many records may wait for the writer
	// goroutine when Options.QueueSize is 0.
	DefaultQueueSize = 4096
	// flushEvery bounds how long a written record may stay in the buffer
	// while records keep arriving; an idle writer flushes at once.
	flushEvery = time.Second
	// fileMode is the permission of a records file that Open creates.
	fileMode = 0o640
)

// Options tune a Writer.
type Options struct {
	// Logger receives the warnings about dropped records and write
	// errors, at most one of each kind per minute; nil discards them.
	Logger *slog.Logger
	// Clock times the warnings' rate limit; nil means the wall clock.
	Clock clock.Clock
	// QueueSize is how many records may wait to be written; 0 means
	// DefaultQueueSize.
	QueueSize int
}

// Writer writes session records as JSON lines. Write may be called from
// any goroutine and never blocks; Reopen and Close wait for the writer
// goroutine.
type Writer struct {
	queue   chan stats.Record
	reopens chan chan error
	quit    chan struct{}
	done    chan struct{}

	// mu orders Write's queueing before Close's final drain; closing is
	// set under it.
	mu        sync.RWMutex
	closing   bool
	dropped   atomic.Uint64
	errs      atomic.Uint64
	closeOnce sync.Once
	closeErr  error // set by run before done is closed

	// Owned by the writer goroutine.
	path     string   // the file to reopen; "" when the output is not a file Open opened
	file     *os.File // closed by Close; nil when the output is not one
	out      io.Writer
	buf      *bufio.Writer
	enc      *json.Encoder
	log      *slog.Logger
	clk      clock.Clock
	dropWarn limiter
	errWarn  limiter
	reported uint64 // dropped count of the last warning
}

// Open returns a Writer to output: "stdout", or the path of a file that is
// opened for appending and created with mode 0640 when missing.
func Open(output string, opts Options) (*Writer, error) {
	switch output {
	case "":
		return nil, ErrNoOutput
	case "stdout":
		return New(os.Stdout, opts), nil
	}
	f, err := openFile(output)
	if err != nil {
		return nil, err
	}
	w := newWriter(f, opts)
	w.path, w.file = output, f
	go w.run()
	return w, nil
}

// New returns a Writer to out, which Close leaves open and Reopen leaves
// alone.
func New(out io.Writer, opts Options) *Writer {
	w := newWriter(out, opts)
	go w.run()
	return w
}

// newWriter returns a Writer to out whose goroutine is not started.
func newWriter(out io.Writer, opts Options) *Writer {
	size := opts.QueueSize
	if size <= 0 {
		size = DefaultQueueSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	buf := bufio.NewWriter(out)
	return &Writer{
		queue:    make(chan stats.Record, size),
		reopens:  make(chan chan error),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		out:      out,
		buf:      buf,
		enc:      newEncoder(buf),
		log:      log,
		clk:      clk,
		dropWarn: limiter{every: warnEvery},
		errWarn:  limiter{every: warnEvery},
	}
}

// openFile opens path for appending records.
func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return f, nil
}

// Write queues r to be written. It never blocks: when the queue is full,
// or the Writer is closed, r is dropped and counted (see Dropped). Its
// signature fits server.Options.OnAllocationEnd.
func (w *Writer) Write(r stats.Record) {
	// The read lock keeps Close from starting the final drain while r is
	// being queued, so that no record is left in the queue unwritten and
	// uncounted. Allocations end far less often than packets arrive.
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closing {
		w.dropped.Add(1)
		return
	}
	select {
	case w.queue <- r:
	default:
		w.dropped.Add(1)
	}
}

// Dropped returns how many records were dropped because the queue was full
// or the Writer closed.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// WriteErrors returns how many writes to the output failed. The records
// buffered at the time of a failure are lost.
func (w *Writer) WriteErrors() uint64 { return w.errs.Load() }

// Reopen writes the records queued so far to the current file, then opens
// the file's path again, so that records go to a new file after the old
// one was renamed (log rotation). If the path cannot be opened, records
// keep going to the old file and the error is returned. On a Writer that
// Open did not give a file (stdout, New) it does nothing.
func (w *Writer) Reopen() error {
	reply := make(chan error, 1)
	select {
	case w.reopens <- reply:
	case <-w.done:
		return ErrClosed
	}
	return <-reply
}

// Close writes the queued records, flushes and closes the file (not
// stdout or the io.Writer given to New). Records written after Close are
// dropped. It returns the errors of the last flush and of closing the file,
// and is safe to call more than once.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closing = true
		w.mu.Unlock()
		close(w.quit)
	})
	<-w.done
	return w.closeErr
}

// run is the writer goroutine.
func (w *Writer) run() {
	defer close(w.done)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case r := <-w.queue:
			w.encode(&r)
			if len(w.queue) == 0 {
				w.flush()
			}
		case <-tick.C:
			w.flush()
		case reply := <-w.reopens:
			reply <- w.reopen()
		case <-w.quit:
			w.drain()
			err := w.flush()
			if w.file != nil {
				if cerr := w.file.Close(); cerr != nil {
					err = errors.Join(err, fmt.Errorf("records: %w", cerr))
				}
			}
			w.reportDrops(true)
			w.closeErr = err
			return
		}
		w.reportDrops(false)
	}
}

// encode writes r into the buffer.
func (w *Writer) encode(r *stats.Record) {
	if err := w.enc.Encode(lineOf(r)); err != nil {
		w.failed(err)
	}
}

// drain encodes every record queued now.
func (w *Writer) drain() {
	for {
		select {
		case r := <-w.queue:
			w.encode(&r)
		default:
			return
		}
	}
}

// flush writes the buffer out.
func (w *Writer) flush() error {
	if w.buf.Buffered() == 0 {
		return nil
	}
	err := w.buf.Flush()
	if err != nil {
		w.failed(err)
		return fmt.Errorf("records: %w", err)
	}
	return nil
}

// failed counts and reports a write error, and empties the buffer, which
// keeps an error once it had one.
func (w *Writer) failed(err error) {
	n := w.errs.Add(1)
	w.buf.Reset(w.out)
	if w.errWarn.allow(w.clk.Now()) {
		w.log.Warn("session records: write failed; the buffered records are lost", "err", err, "write_errors", n)
	}
}

// reportDrops warns about records dropped since the last warning, at most
// once per minute unless final.
func (w *Writer) reportDrops(final bool) {
	n := w.dropped.Load()
	if n == w.reported || (!final && !w.dropWarn.allow(w.clk.Now())) {
		return
	}
	w.log.Warn("session records dropped: the writer cannot keep up", "dropped", n-w.reported, "dropped_total", n)
	w.reported = n
}

// reopen writes what is queued to the current file, then switches to a
// new file at the same path.
func (w *Writer) reopen() error {
	if w.file == nil {
		return nil
	}
	w.drain()
	err := w.flush()
	f, oerr := openFile(w.path)
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	if cerr := w.file.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("records: %w", cerr))
	}
	w.file, w.out = f, f
	w.buf.Reset(f)
	return err
}
