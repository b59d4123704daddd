package partition

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
)

// emitter sends a partition's output records to the merge goroutine.
type emitter struct {
	q *Query
	p int
	c *partitionCounters
}

// Emit forwards rec to the sink's channel, blocking while it is full.
func (e *emitter) Emit(rec arrow.Record) error {
	if rec == nil {
		return fmt.Errorf("partition %d: emitted a nil record", e.p)
	}
	rows := rec.NumRows()
	select {
	case e.q.out <- Output{Partition: e.p, Rec: rec}:
	case <-e.q.ctx.Done():
		rec.Release()
		return context.Cause(e.q.ctx)
	}
	e.c.recordsOut.Add(rows)
	e.c.batchesOut.Add(1)
	return nil
}

// pending is a batch waiting in a partition's coalescing buffer.
type pending struct {
	b    columnar.Batch
	sel  *selBuf // the buffer b.Sel lies in (nil: none)
	enq  int64   // routed (for the latency histogram)
	recv int64   // taken from the channel (for the coalescing deadline)
}

// worker is one partition's goroutine state. Only that goroutine touches it.
type worker struct {
	q    *Query
	p    int
	pipe Pipeline
	c    *partitionCounters
	out  *emitter
	op   string // the pipeline method running (for panic reports)

	srcWM []int64 // latest watermark of each source
	known []bool  // the source registered with this partition
	wm    int64

	// Adaptive batching.
	batching    bool
	mem         memory.Allocator
	target      int
	minRows     int
	maxRows     int
	maxDelay    int64
	held        []pending
	heldRows    int
	timer       *time.Timer
	timerArmed  bool
	lastLatency int64
}

// runWorker runs partition p until Finish, a failure or cancellation. It
// always closes the pipeline and releases what it holds; a panic in the
// pipeline becomes a *PanicError.
func (q *Query) runWorker(p int, pipe Pipeline) (err error) {
	ps := q.parts[p]
	w := &worker{
		q: q, p: p, pipe: pipe, c: &ps.c,
		out:      &emitter{q: q, p: p, c: &ps.c},
		wm:       math.MinInt64,
		batching: q.cfg.Batching.Enabled,
		mem:      q.cfg.Allocator,
		target:   q.cfg.Batching.TargetRows,
		minRows:  q.cfg.Batching.MinRows,
		maxRows:  q.cfg.Batching.MaxRows,
		maxDelay: int64(q.cfg.Batching.MaxDelay),
	}
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Partition: p, Op: w.op, Value: r, Stack: stackSummary(8)}
		}
		w.releaseHeld()
		if w.timer != nil {
			w.timer.Stop()
		}
		if cerr := w.closePipeline(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return w.loop(ps.in)
}

// closePipeline calls Close, turning a panic into an error.
func (w *worker) closePipeline() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Partition: w.p, Op: "close", Value: r, Stack: stackSummary(8)}
		}
	}()
	w.pipe.Close()
	return nil
}

func (w *worker) loop(in <-chan message) error {
	ctx := w.q.ctx
	for {
		var tc <-chan time.Time
		if w.timerArmed {
			tc = w.timer.C
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tc:
			w.timerArmed = false
			if err := w.flush(ctx); err != nil {
				return err
			}
		case m := <-in:
			switch m.kind {
			case msgBatch:
				w.c.lastInput.Store(now())
				if err := w.onBatch(ctx, m); err != nil {
					return err
				}
			case msgWatermark:
				if err := w.onWatermark(ctx, int(m.src), m.wm); err != nil {
					return err
				}
			case msgFinish:
				if err := w.flush(ctx); err != nil {
					return err
				}
				w.op = "finish"
				if err := w.pipe.Finish(ctx, w.out); err != nil {
					return fmt.Errorf("partition %d: finish: %w", w.p, err)
				}
				w.c.watermark.Store(math.MaxInt64)
				w.c.finished.Store(true)
				return nil
			}
		}
	}
}

// onWatermark records source src's watermark and, when the partition's
// watermark (the minimum over the sources registered with this partition)
// advances, flushes held rows and tells the pipeline. A source registers by
// broadcasting math.MinInt64 when it is created, before any of its rows.
func (w *worker) onWatermark(ctx context.Context, src int, wm int64) error {
	for len(w.srcWM) <= src {
		w.srcWM = append(w.srcWM, math.MinInt64)
		w.known = append(w.known, false)
	}
	w.known[src] = true
	w.srcWM[src] = max(w.srcWM[src], wm)
	pwm := int64(math.MaxInt64)
	for i, v := range w.srcWM {
		if w.known[i] {
			pwm = min(pwm, v)
		}
	}
	if pwm <= w.wm {
		return nil
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	w.wm = pwm
	w.c.watermark.Store(pwm)
	w.op = "watermark"
	if err := w.pipe.Watermark(ctx, pwm, w.out); err != nil {
		return fmt.Errorf("partition %d: watermark %d: %w", w.p, pwm, err)
	}
	return nil
}

// onBatch processes one routed batch: directly, or through the coalescing
// buffer when adaptive batching is on.
func (w *worker) onBatch(ctx context.Context, m message) error {
	n := m.b.Len()
	if !w.batching {
		defer m.release(w.q)
		return w.invoke(ctx, m.b, m.enq)
	}
	if n*4 >= w.target {
		// Large enough to run on its own: keep the order by flushing the
		// held rows first.
		if err := w.flush(ctx); err != nil {
			m.release(w.q)
			return err
		}
		defer m.release(w.q)
		if n <= w.maxRows {
			return w.invoke(ctx, m.b, m.enq)
		}
		w.c.split.Add(1)
		for i := 0; i < n; {
			step := w.target // invoke may adapt the target
			sub := m.b.Slice(i, min(i+step, n))
			enq := int64(-1)
			if i+step >= n {
				enq = m.enq
			}
			err := w.invoke(ctx, sub, enq)
			sub.Release()
			if err != nil {
				return err
			}
			i += step
		}
		return nil
	}
	t := now()
	w.held = append(w.held, pending{b: m.b, sel: m.sel, enq: m.enq, recv: t})
	w.heldRows += n
	if w.heldRows >= w.target || t-w.held[0].recv >= w.maxDelay {
		return w.flush(ctx)
	}
	if !w.timerArmed {
		d := time.Duration(w.maxDelay - (t - w.held[0].recv))
		if w.timer == nil {
			w.timer = time.NewTimer(d)
		} else {
			w.timer.Reset(d)
		}
		w.timerArmed = true
	}
	return nil
}

// flush runs the held batches through the pipeline as one batch.
func (w *worker) flush(ctx context.Context) error {
	if len(w.held) == 0 {
		return nil
	}
	if w.timerArmed {
		w.timer.Stop()
		w.timerArmed = false
	}
	held := w.held
	w.c.noteHold(now() - held[0].recv)
	w.held = w.held[:0]
	w.heldRows = 0
	defer func() {
		for i := range held {
			held[i].b.Release()
			w.q.releaseSel(held[i].sel)
			held[i] = pending{}
		}
	}()
	if len(held) == 1 {
		return w.invoke(ctx, held[0].b, held[0].enq)
	}
	rec, err := concatBatches(w.mem, held)
	if err != nil {
		return fmt.Errorf("partition %d: coalesce %d batches: %w", w.p, len(held), err)
	}
	b := columnar.Batch{Rec: rec}
	defer b.Release()
	w.c.coalesced.Add(int64(len(held)))
	if err := w.invoke(ctx, b, -1); err != nil {
		return err
	}
	t := now()
	for _, h := range held {
		w.c.latency.observe(t - h.enq)
	}
	return nil
}

// invoke pushes b through the pipeline, records the latency of a batch
// enqueued at enq (none when enq < 0) and adapts the batch target.
func (w *worker) invoke(ctx context.Context, b columnar.Batch, enq int64) error {
	t0 := now()
	w.op = "push"
	if err := w.pipe.Push(ctx, b, w.out); err != nil {
		return fmt.Errorf("partition %d: push: %w", w.p, err)
	}
	t1 := now()
	w.c.invocations.Add(1)
	if enq >= 0 {
		w.c.latency.observe(t1 - enq)
	}
	if w.batching {
		d := t1 - t0
		w.lastLatency = d
		switch {
		case d > w.maxDelay && w.target > w.minRows:
			w.target = max(w.minRows, w.target-w.target/4)
		case d < w.maxDelay/4 && b.Len() >= w.target && w.target < w.maxRows:
			w.target = min(w.maxRows, w.target+w.target/4)
		}
		w.c.target.Store(int64(w.target))
	}
	return nil
}

func (w *worker) releaseHeld() {
	for i := range w.held {
		w.held[i].b.Release()
		w.q.releaseSel(w.held[i].sel)
	}
	w.held = nil
	w.heldRows = 0
}

// concatBatches copies the selected rows of bs (all of one schema) into one
// new record allocated from mem. Fixed-width and utf8 columns are gathered
// directly (gatherColumn); other types are concatenated from zero-copy
// slices covering the runs of consecutive selected rows.
func concatBatches(mem memory.Allocator, bs []pending) (arrow.Record, error) {
	schema := bs[0].b.Rec.Schema()
	rows := 0
	for _, h := range bs {
		if !h.b.Rec.Schema().Equal(schema) {
			return nil, fmt.Errorf("batches have different schemas: %s and %s", schema, h.b.Rec.Schema())
		}
		rows += h.b.Len()
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	var pieces []arrow.Array
	for c := range cols {
		if col := gatherColumn(mem, schema.Field(c).Type, bs, c, rows); col != nil {
			cols[c] = col
			continue
		}
		pieces = pieces[:0]
		for _, h := range bs {
			a := h.b.Rec.Column(c)
			if h.b.Sel == nil {
				a.Retain()
				pieces = append(pieces, a)
				continue
			}
			sel := h.b.Sel
			for i := 0; i < len(sel); {
				j := i + 1
				for j < len(sel) && sel[j] == sel[j-1]+1 {
					j++
				}
				pieces = append(pieces, array.NewSlice(a, int64(sel[i]), int64(sel[j-1])+1))
				i = j
			}
		}
		col, err := array.Concatenate(pieces, mem)
		for _, p := range pieces {
			p.Release()
		}
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", schema.Field(c).Name, err)
		}
		cols[c] = col
	}
	return columnar.MakeRecord(schema, cols, int64(rows)), nil
}
