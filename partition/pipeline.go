package partition

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/columnar"
)

// Pipeline is one partition's compiled operator chain (filter → project →
// aggregate/window …). exec implements it; this package only drives it.
//
// A Pipeline owns all of its state (hash tables, window buffers) and is only
// ever called from its partition's goroutine, one call at a time, so it
// needs no locks. The calls arrive in this order: any interleaving of Push
// and Watermark, then Finish once at the end of input (unless the query
// failed or was cancelled first), then Close exactly once in every case.
//
// Every method receives an Emitter for its output. Emitted records flow to
// the query's sink in emission order for this partition; Emit blocks while
// the sink is slow (backpressure) and returns an error when the query is
// stopping, which the pipeline should return.
type Pipeline interface {
	// Push processes one batch of input rows: b.Rec's rows listed in
	// b.Sel (all rows when Sel is nil), usually the source's record itself
	// shared by every partition. b is borrowed for the duration of the
	// call: a pipeline that keeps the record beyond the call must Retain
	// it, must copy Sel, and must drop (or copy) b.Keys — the router
	// recycles the selection buffers that hold them once the call returns.
	// b.Times, when set, is the range of the record's event-time column
	// (it holds no reference of its own). Neither the record, Sel nor Keys
	// may be modified.
	Push(ctx context.Context, b columnar.Batch, out Emitter) error
	// Watermark reports that the partition's watermark advanced to wm (in
	// the event-time column's unit, milliseconds for int64 columns): no
	// more on-time rows with event time < wm will arrive. Windows that end
	// at or before wm may be closed and emitted. wm is math.MaxInt64 once
	// every source has closed; Finish still follows.
	Watermark(ctx context.Context, wm int64, out Emitter) error
	// Finish signals the end of input (the watermark becomes +inf,
	// math.MaxInt64): the pipeline flushes everything it still holds.
	Finish(ctx context.Context, out Emitter) error
	// Close releases the pipeline's state. It is called exactly once, after
	// Finish or after a failure, and never concurrently with another call.
	Close()
}

// Emitter receives a pipeline's output records.
type Emitter interface {
	// Emit hands rec to the query's output. Ownership of rec passes to the
	// emitter (the caller must not Release it afterwards), also when Emit
	// returns an error.
	Emit(rec arrow.Record) error
}

// EmitterFunc adapts a function to the Emitter interface.
type EmitterFunc func(rec arrow.Record) error

// Emit calls f(rec).
func (f EmitterFunc) Emit(rec arrow.Record) error { return f(rec) }

// Factory builds partition p's Pipeline (p in [0, Config.Partitions)). It is
// called once per partition from Start, before any worker runs; when it
// fails Start closes the pipelines already built and returns the error.
type Factory func(partition int) (Pipeline, error)

// Output is one record emitted by a partition, as handed to the Sink.
type Output struct {
	// Partition is the partition that emitted Rec.
	Partition int
	// Rec is the emitted record; the sink owns it and must Release it.
	Rec arrow.Record
	// Watermark is the query watermark when Rec reached the merge: the
	// minimum of the non-idle partitions' watermarks (math.MinInt64 before
	// any watermark, math.MaxInt64 once every partition finished).
	Watermark int64
}

// Sink receives the merged output of all partitions, one record at a time,
// from a single goroutine: records of one partition arrive in the order the
// partition emitted them. A slow sink blocks the partitions (and through
// them the producers). A Sink error stops the query with that error.
type Sink func(out Output) error
