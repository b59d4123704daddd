package exec

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/partition"
)

// PartitionedStream runs a Partitioned query over pushed input: the
// continuous-mode counterpart of Partitioned.Run. Push routes each record
// to the partitions (partition.Start, on the caller's goroutine, blocking
// while they are busy); the partitions' merged output runs through the
// final stage and a drain goroutine hands every result record to emit, so
// results reach emit asynchronously, in the order the final stage
// produces them. Watermark forwards an explicit watermark to every
// partition; Close ends the input, waits for every goroutine and returns
// the first error. Push, Watermark and Close must not be called
// concurrently.
type PartitionedStream struct {
	p       *Partitioned
	r       *partReader
	q       *partition.Query
	sources []*partition.Source
	k       int
	cols    []arrow.Array
	drained chan struct{}
	stopped bool
	closed  bool
	err     error

	mu      sync.Mutex
	emitErr error // the first error of emit, set by the drain goroutine
}

// Stream starts p over pushed input (see PartitionedStream); emit receives
// each result record (ownership passes) on the drain goroutine, never
// concurrently. An emit error stops the query. A Partitioned runs once.
func (p *Partitioned) Stream(ctx context.Context, emit func(arrow.Record) error) (*PartitionedStream, error) {
	if !p.used.CompareAndSwap(false, true) {
		return nil, errors.New("exec: a partitioned query runs once; compile it again")
	}
	r := &partReader{ctx: ctx, p: p, refs: 1, started: true}
	r.runCtx, r.cancel = context.WithCancelCause(ctx)
	r.qctx = r.runCtx
	if p.plan.Ordered {
		r.queues = make([][]arrow.Record, p.plan.Partitions)
	}
	q, err := partition.Start(r.runCtx, p.cfg, func(i int) (partition.Pipeline, error) { return p.pipes[i], nil }, r.sink)
	if err != nil {
		r.cancel(nil)
		r.cleanup()
		p.final.Close()
		return nil, fmt.Errorf("exec: start partitions: %w", err)
	}
	r.closed = true // the query closes every pipeline
	s := &PartitionedStream{p: p, r: r, q: q, drained: make(chan struct{})}
	if p.plan.Ordered || p.cfg.Strategy == partition.Sticky {
		for i := range p.plan.Partitions {
			src, err := q.NewSource(partition.SourceOptions{Partition: i, HasPartition: true})
			if err != nil {
				r.cancel(err)
				_ = q.Wait()
				close(p.out.ch)
				r.cleanup()
				p.final.Close()
				return nil, err
			}
			s.sources = append(s.sources, src)
		}
	}
	go s.drain(emit)
	return s, nil
}

// drain hands the final stage's records to emit until the result channel
// closes or the run stops (an emit error, which stops the query, or the
// cancellation of the context: then no goroutine of the query is left, and
// Close releases what is still queued).
func (s *PartitionedStream) drain(emit func(arrow.Record) error) {
	defer close(s.drained)
	done := s.r.runCtx.Done()
	for {
		select {
		case rec, ok := <-s.p.out.ch:
			if !ok {
				return
			}
			if err := emit(rec); err != nil {
				s.mu.Lock()
				s.emitErr = err
				s.mu.Unlock()
				s.r.cancel(err)
				return
			}
		case <-done:
			return
		}
	}
}

// emitError returns emit's first error, or nil.
func (s *PartitionedStream) emitError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emitErr
}

// failure returns the error to report for err: emit's error first.
func (s *PartitionedStream) failure(err error) error {
	if e := s.emitError(); e != nil {
		return e
	}
	return err
}

// Table returns the name of the table (stream) the query reads.
func (s *PartitionedStream) Table() string { return s.p.scan.Table }

// Metrics returns a snapshot of the partitions' metrics (records in and
// out, queue depths, batch latency, backpressure, late rows).
func (s *PartitionedStream) Metrics() partition.Metrics { return s.q.Metrics() }

// InputSchema returns the schema pushed records must have.
func (s *PartitionedStream) InputSchema() *arrow.Schema { return s.p.scan.TableSchema }

// Schema returns the result schema.
func (s *PartitionedStream) Schema() *arrow.Schema { return s.p.out.schema }

// Push routes one input record (borrowed) to the partitions. It returns
// the query's error once the query stopped (a partition, the final stage
// or emit failed, or ctx was cancelled); a satisfied LIMIT makes later
// pushes no-ops.
func (s *PartitionedStream) Push(in arrow.Record) error {
	if s.stopped || s.closed || in.NumRows() == 0 {
		return nil
	}
	rec, cols, err := scanRecord(s.p.scan, in, s.cols)
	s.cols = cols
	if err != nil {
		return err
	}
	if s.sources != nil {
		err = s.sources[s.k%len(s.sources)].Push(rec)
	} else {
		err = s.q.Push(rec)
	}
	rec.Release()
	clear(s.cols)
	s.k++
	return s.check(err)
}

// check turns a routing error into the query's error (nil for a LIMIT).
func (s *PartitionedStream) check(err error) error {
	if err == nil {
		return nil
	}
	if qerr := s.q.Err(); qerr != nil {
		err = qerr
	}
	if errors.Is(err, ErrStop) {
		s.stopped = true
		return nil
	}
	return s.failure(err)
}

// Watermark sends an explicit watermark to every partition (through every
// source); each partition's time windows close as for Stream.Watermark.
func (s *PartitionedStream) Watermark(wm int64) error {
	if s.stopped || s.closed {
		return nil
	}
	if s.sources == nil {
		return s.check(s.q.Watermark(wm))
	}
	for _, src := range s.sources {
		if err := src.Watermark(wm); err != nil {
			return s.check(err)
		}
	}
	return nil
}

// Close ends the input (every partition finishes: watermark +∞), runs the
// final stage to its end, waits until emit has received every record and
// every goroutine has stopped, and returns the first error (nil for a
// clean run). It is safe more than once.
func (s *PartitionedStream) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	r, p := s.r, s.p
	err := s.q.Close()
	if errors.Is(err, ErrStop) {
		err = nil
	} else if err == nil && r.ctx.Err() == nil {
		if p.plan.TwoPhase && !p.windowed() {
			err = safely(r.mergePartials)
		} else {
			err = safely(func() error { return p.final.Finish(r.qctx) })
		}
		if errors.Is(err, ErrStop) {
			err = nil
		}
	}
	if err == nil {
		err = r.ctx.Err()
	}
	if err != nil {
		r.cancel(err)
	}
	close(p.out.ch)
	<-s.drained
	for rec := range p.out.ch {
		rec.Release()
	}
	r.cancel(nil)
	r.cleanup()
	p.final.Close()
	if e := s.emitError(); e != nil {
		err = e
	}
	s.err = err
	return err
}
