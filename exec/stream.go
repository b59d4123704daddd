package exec

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

// Watermarker is the optional interface of operators that take an explicit
// event-time watermark. Watermark(ctx, wm) tells the operator that no row
// with an event time below wm is expected any more: the time-window
// operator closes (EMIT FINAL: emits) the windows wm has passed, then every
// operator forwards the watermark to the next one. Operators without state
// that depends on event time just forward it.
type Watermarker interface {
	Watermark(ctx context.Context, wm int64) error
}

// forwardWatermark passes wm on to next when it takes watermarks.
func forwardWatermark(ctx context.Context, next Operator, wm int64) error {
	if w, ok := next.(Watermarker); ok {
		return w.Watermark(ctx, wm)
	}
	return nil
}

// Watermark implements Watermarker.
func (f *filterOp) Watermark(ctx context.Context, wm int64) error {
	return forwardWatermark(ctx, f.next, wm)
}

// Watermark implements Watermarker.
func (p *projectOp) Watermark(ctx context.Context, wm int64) error {
	return forwardWatermark(ctx, p.next, wm)
}

// Watermark implements Watermarker.
func (l *limitOp) Watermark(ctx context.Context, wm int64) error {
	return forwardWatermark(ctx, l.next, wm)
}

// Watermark implements Watermarker.
func (d *distinctOp) Watermark(ctx context.Context, wm int64) error {
	return forwardWatermark(ctx, d.next, wm)
}

// Watermark implements Watermarker: a plain GROUP BY emits at Finish.
func (o *aggregateOp) Watermark(ctx context.Context, wm int64) error {
	return forwardWatermark(ctx, o.next, wm)
}

// Watermark implements Watermarker: a sort emits at Finish.
func (s *sortOp) Watermark(ctx context.Context, wm int64) error {
	return forwardWatermark(ctx, s.next, wm)
}

// Watermark implements Watermarker: OVER (ROWS) buffers until Finish.
func (o *rowsOp) Watermark(ctx context.Context, wm int64) error {
	return forwardWatermark(ctx, o.next, wm)
}

// Watermark implements Watermarker: it advances the window's watermark
// (ignored when not ahead of the current one, which follows the maximum
// event time minus the max out-of-orderness), pushes the windows that
// closes (EMIT FINAL) and forwards wm.
func (o *timeWindowOp) Watermark(ctx context.Context, wm int64) error {
	out, err := o.w.AdvanceWatermark(wm)
	if err != nil {
		return fmt.Errorf("exec: %s: %w", o.what, err)
	}
	if err := pushRecords(ctx, out, o.node.Out, o.batchSize, o.next); err != nil {
		return err
	}
	return forwardWatermark(ctx, o.next, wm)
}

// Watermark implements Watermarker (the sink has nothing to close).
func (s *Sink) Watermark(context.Context, int64) error { return nil }

// Stream is a compiled pipeline whose source is pushed rather than pulled:
// the continuous-mode counterpart of Pipeline.Run, with the same operators
// (Pipeline.Run is a Stream driven to the end of its input). The caller
// pushes input records (Push), optional watermarks (Watermark), ends the
// input (Finish) and takes the output records produced so far (Next) after
// each call. A Stream runs on the caller's goroutine and is not safe for
// concurrent use; Close releases it.
//
// Output: a stateless query (filter/project) emits the selected rows of
// every pushed batch; a time window with EMIT FINAL emits windows as the
// watermark closes them, with EMIT CHANGES the changed rows after each
// batch; a GROUP BY without a window and EMIT CHANGES emits the touched
// groups' current rows after each batch; a plain GROUP BY (EMIT FINAL or
// no EMIT), ORDER BY, DISTINCT … above an aggregate, and OVER emit at
// Finish.
type Stream struct {
	p        *Pipeline
	cols     []arrow.Array
	stopped  bool
	finished bool
}

// CompileStream compiles a bound query for pushed input (see Stream). It
// runs one partition.
func CompileStream(mem memory.Allocator, q *sqlfront.Query, opts Options) (*Stream, error) {
	p, err := Compile(mem, q, opts)
	if err != nil {
		return nil, err
	}
	return &Stream{p: p}, nil
}

// Table returns the name of the table (stream) the query reads.
func (s *Stream) Table() string { return s.p.scan.Table }

// InputSchema returns the schema pushed records must have.
func (s *Stream) InputSchema() *arrow.Schema { return s.p.scan.TableSchema }

// Schema returns the result schema.
func (s *Stream) Schema() *arrow.Schema { return s.p.sink.schema }

// Stopped reports whether the query needs no more input (a LIMIT is
// satisfied); later pushes are ignored.
func (s *Stream) Stopped() bool { return s.stopped }

// Push runs one input record (borrowed: the caller keeps its reference)
// through the pipeline. Its schema must be InputSchema's (the scanned
// columns' types are checked, errors name the column). Errors are the
// operators' run-time errors; a panic becomes an error.
func (s *Stream) Push(ctx context.Context, in arrow.Record) error {
	if s.stopped || s.finished || in.NumRows() == 0 {
		return nil
	}
	err := safely(func() error {
		rec, cols, err := scanRecord(s.p.scan, in, s.cols)
		s.cols = cols
		if err != nil {
			return err
		}
		defer rec.Release()
		return s.p.head.Push(ctx, columnar.Batch{Rec: rec})
	})
	clear(s.cols)
	if errors.Is(err, ErrStop) {
		s.stopped = true
		return nil
	}
	return err
}

// Watermark forwards an explicit event-time watermark (in the units of the
// time window's time column) down the operator chain: time windows that
// wm passes close.
func (s *Stream) Watermark(ctx context.Context, wm int64) error {
	if s.stopped || s.finished {
		return nil
	}
	w, ok := s.p.head.(Watermarker)
	if !ok {
		return nil
	}
	err := safely(func() error { return w.Watermark(ctx, wm) })
	if errors.Is(err, ErrStop) {
		s.stopped = true
		return nil
	}
	return err
}

// Finish ends the input (watermark +∞): every open window closes and the
// blocking operators emit. Later calls do nothing.
func (s *Stream) Finish(ctx context.Context) error {
	if s.finished {
		return nil
	}
	s.finished = true
	if s.stopped {
		return nil
	}
	err := safely(func() error { return s.p.head.Finish(ctx) })
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Next removes and returns the oldest output record not taken yet (owned
// by the caller), or nil when there is none.
func (s *Stream) Next() arrow.Record { return s.p.sink.pop() }

// Close releases the pipeline and any output not taken. It is safe more
// than once and after an error.
func (s *Stream) Close() {
	s.p.head.Close()
	s.p.sink.Close()
}
