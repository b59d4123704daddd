package partition

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// SourceOptions describes a source to its router.
type SourceOptions struct {
	// Partition is the source's own partition (a Kafka partition, a file
	// shard …). Sticky routes to Partition mod N; Smart does too when
	// PartitionedBy matches the query's key columns. Sources without one
	// use their registration index.
	Partition int
	// HasPartition tells that Partition is set.
	HasPartition bool
	// PartitionedBy names the columns the source is partitioned by, if
	// any. Smart keeps the source's partition when they equal the query's
	// key columns (in order), because then every key already comes from
	// exactly one source partition.
	PartitionedBy []string
}

// Source is one input of a query with its own router: it routes the records
// pushed to it, tracks its event-time watermark and broadcasts it to the
// partitions. A Source must be used by one goroutine at a time; different
// sources route concurrently.
type Source struct {
	q        *Query
	id       int
	part     int  // source partition
	ownRoute bool // Smart keeps the source partition

	hasher  keyHasher
	hashes  []uint64
	ids     []uint32
	counts  []int32 // N+1: the last bucket collects dropped rows
	starts  []int32
	cursors []int32
	late    []int64 // per partition, scratch

	schema *arrow.Schema
	keyIdx []int
	etIdx  int   // -1: no event-time column
	ooo    int64 // max out-of-orderness in event-time units

	maxEvent int64
	wm       int64
	rr       int
	closed   bool
}

// NewSource registers a new source with its own router. The source joins
// every partition's watermark (the minimum over the sources) from now on;
// a partition's watermark never goes back, so rows of a source added after
// the watermarks advanced may be late at the pipelines (they are counted as
// late only against the source's own watermark).
func (q *Query) NewSource(opts SourceOptions) (*Source, error) {
	if opts.HasPartition && opts.Partition < 0 {
		return nil, fmt.Errorf("partition: source partition %d is negative", opts.Partition)
	}
	q.gate.RLock()
	defer q.gate.RUnlock()
	if q.closing {
		return nil, q.closedErr()
	}
	if q.ctx.Err() != nil {
		return nil, q.stopErr()
	}
	id := int(q.nsources.Add(1)) - 1
	n := len(q.parts)
	s := &Source{
		q:        q,
		id:       id,
		part:     id,
		counts:   make([]int32, n+1),
		starts:   make([]int32, n+1),
		cursors:  make([]int32, n+1),
		late:     make([]int64, n),
		etIdx:    -1,
		maxEvent: math.MinInt64,
		wm:       math.MinInt64,
	}
	if opts.HasPartition {
		s.part = opts.Partition
	}
	s.ownRoute = q.cfg.Strategy == Smart && opts.HasPartition && slices.Equal(opts.PartitionedBy, q.cfg.KeyColumns)
	// Register with every partition: from now on the source holds their
	// watermarks back until its own advances.
	if err := s.advance(math.MinInt64); err != nil {
		return nil, err
	}
	return s, nil
}

// ID returns the source's registration index.
func (s *Source) ID() int { return s.id }

// bind resolves the key and event-time columns of a new schema.
func (s *Source) bind(schema *arrow.Schema) error {
	if s.schema == schema {
		return nil
	}
	cfg := &s.q.cfg
	// Keys are resolved even when they are not needed (one partition), so
	// a wrong key column fails the same way at every partition count.
	needKeys := cfg.Strategy == Hash || (cfg.Strategy == Smart && !s.ownRoute)
	keyIdx := s.keyIdx[:0]
	if needKeys {
		for _, name := range cfg.KeyColumns {
			idx := schema.FieldIndices(name)
			if len(idx) != 1 {
				return fmt.Errorf("partition: key column %q: %d columns of that name in the source schema %s", name, len(idx), schema)
			}
			keyIdx = append(keyIdx, idx[0])
		}
	}
	etIdx := -1
	var ooo int64
	if cfg.EventTimeColumn != "" {
		idx := schema.FieldIndices(cfg.EventTimeColumn)
		if len(idx) != 1 {
			return fmt.Errorf("partition: event-time column %q: %d columns of that name in the source schema %s", cfg.EventTimeColumn, len(idx), schema)
		}
		etIdx = idx[0]
		switch dt := schema.Field(etIdx).Type.(type) {
		case *arrow.Int64Type:
			ooo = cfg.MaxOutOfOrderness.Milliseconds()
		case *arrow.TimestampType:
			switch dt.Unit {
			case arrow.Second:
				ooo = int64(cfg.MaxOutOfOrderness.Seconds())
			case arrow.Millisecond:
				ooo = cfg.MaxOutOfOrderness.Milliseconds()
			case arrow.Microsecond:
				ooo = cfg.MaxOutOfOrderness.Microseconds()
			default:
				ooo = cfg.MaxOutOfOrderness.Nanoseconds()
			}
		default:
			return fmt.Errorf("partition: event-time column %q has type %s, want int64 (milliseconds) or timestamp", cfg.EventTimeColumn, dt)
		}
	}
	s.schema, s.keyIdx, s.etIdx, s.ooo = schema, keyIdx, etIdx, ooo
	return nil
}

// Push routes rec to the partitions. rec is borrowed: every partition batch
// holds its own reference, so the caller releases rec as usual. Rows of one
// partition travel as one columnar.Batch sharing rec's columns with a
// selection vector (nil when the whole record goes to one partition); no
// column is copied. Push blocks while a target partition's channel is full
// and returns the query's error once the query stopped (rows not yet sent
// are then discarded).
func (s *Source) Push(rec arrow.Record) error {
	q := s.q
	q.gate.RLock()
	defer q.gate.RUnlock()
	if q.closing || s.closed {
		return q.closedErr()
	}
	if q.ctx.Err() != nil {
		return q.stopErr()
	}
	if err := s.bind(rec.Schema()); err != nil {
		return err
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	np := len(q.parts)
	target := -1
	switch {
	case np == 1, q.cfg.Strategy == FanIn:
		target = 0
	case q.cfg.Strategy == Sticky, q.cfg.Strategy == Smart && s.ownRoute:
		target = s.part % np
	case q.cfg.Strategy == RoundRobin:
		target = (s.id + s.rr) % np
		s.rr = (s.rr + 1) % np
	}
	var ids []uint32
	if target < 0 {
		s.hashes = grow(s.hashes, n)
		if err := s.hasher.hashColumns(s.hashes, rec, s.keyIdx); err != nil {
			return err
		}
		s.ids = grow(s.ids, n)
		ids = s.ids[:n]
		kernels.PartitionIDs(ids, s.hashes[:n], np)
	}

	// Event time: late rows (below the watermark before this batch) and the
	// largest event time.
	newMax := s.maxEvent
	var lateRows int64
	if s.etIdx >= 0 {
		col := rec.Column(s.etIdx)
		ev, err := columnar.TimeValues(col)
		if err != nil {
			return fmt.Errorf("partition: event-time column %q: %w", q.cfg.EventTimeColumn, err)
		}
		valid, off := columnar.Validity(col)
		wm := s.wm
		clear(s.late)
		for i, v := range ev[:n] {
			if !columnar.IsValid(valid, off, i) {
				continue
			}
			newMax = max(newMax, v)
			if v < wm {
				lateRows++
				if target >= 0 && ids == nil && q.cfg.LatePolicy == LateDrop {
					// Materialise the ids so the late rows can be dropped.
					s.ids = grow(s.ids, n)
					ids = s.ids[:n]
					for j := range ids {
						ids[j] = uint32(target)
					}
				}
				p := target
				if ids != nil {
					p = int(ids[i])
				}
				s.late[p]++
				if q.cfg.LatePolicy == LateDrop {
					ids[i] = uint32(np)
				}
			}
		}
		if lateRows > 0 {
			for p, l := range s.late {
				if l > 0 {
					q.parts[p].c.late.Add(l)
					if q.cfg.LatePolicy == LateDrop {
						q.parts[p].c.dropped.Add(l)
					}
				}
			}
			if q.cfg.LatePolicy == LateWarn {
				q.warnLate(s.id, lateRows, wm)
			}
		}
	}

	t := now()
	if ids == nil {
		if err := s.sendBatch(target, columnar.NewBatch(rec, nil), nil, t); err != nil {
			return err
		}
	} else if err := s.scatter(rec, ids, t); err != nil {
		return err
	}
	if newMax > s.maxEvent {
		s.maxEvent = newMax
		wm := newMax - s.ooo
		if newMax < math.MinInt64+s.ooo {
			wm = math.MinInt64
		}
		if wm > s.wm {
			return s.advance(wm)
		}
	}
	return nil
}

// scatter splits rec into one selection-vector batch per partition by ids
// (id N marks dropped rows) and sends them.
func (s *Source) scatter(rec arrow.Record, ids []uint32, t int64) error {
	np := len(s.q.parts)
	n := len(ids)
	counts := s.counts[:np+1]
	kernels.Histogram(counts, ids)
	kernels.PartitionStarts(s.starts[:np+1], counts)
	copy(s.cursors, s.starts)
	// Partitions that receive every row get the record without a
	// selection vector.
	for p := range np {
		if int(counts[p]) == n {
			return s.sendBatch(p, columnar.NewBatch(rec, nil), nil, t)
		}
	}
	// One selection buffer per record, recycled: each partition batch
	// holds a reference to it and the last release returns it to the
	// query's free list. The references are taken before the first send,
	// so an early release cannot recycle it while it is still being cut.
	var targets int32
	for p := range np {
		if counts[p] > 0 {
			targets++
		}
	}
	if targets == 0 {
		return nil // every row was dropped
	}
	sb := s.q.getSel(n)
	sel := sb.idx
	kernels.ScatterIndices(sel, ids, s.cursors[:np+1])
	sb.refs.Store(targets)
	for p := range np {
		c := int(counts[p])
		if c == 0 {
			continue
		}
		st := int(s.starts[p])
		targets--
		if err := s.sendBatch(p, columnar.NewBatch(rec, sel[st:st+c:st+c]), sb, t); err != nil {
			// The failed send released its reference; drop the ones of
			// the batches never sent.
			for range targets {
				s.q.releaseSel(sb)
			}
			return err
		}
	}
	return nil
}

// sendBatch sends b (holding a reference to sb when sb is not nil) to
// partition p. On failure b and its sb reference are released.
func (s *Source) sendBatch(p int, b columnar.Batch, sb *selBuf, t int64) error {
	rows := int64(b.Len())
	if err := s.q.send(p, message{kind: msgBatch, src: int32(s.id), b: b, sel: sb, enq: t}); err != nil {
		return err
	}
	c := &s.q.parts[p].c
	c.recordsIn.Add(rows)
	c.batchesIn.Add(1)
	return nil
}

// advance sets the source watermark to wm and broadcasts it.
func (s *Source) advance(wm int64) error {
	s.wm = wm
	for p := range s.q.parts {
		if err := s.q.send(p, message{kind: msgWatermark, src: int32(s.id), wm: wm, enq: now()}); err != nil {
			return err
		}
	}
	return nil
}

// Watermark advances the source's watermark to ts (in event-time units)
// when ts is above it and broadcasts it to every partition; rows below it
// arriving later on this source are late. Watermarks never go back.
func (s *Source) Watermark(ts int64) error {
	q := s.q
	q.gate.RLock()
	defer q.gate.RUnlock()
	if q.closing || s.closed {
		return q.closedErr()
	}
	if q.ctx.Err() != nil {
		return q.stopErr()
	}
	if ts <= s.wm {
		return nil
	}
	return s.advance(ts)
}

// CurrentWatermark returns the source's watermark (math.MinInt64 before the
// first). Like Push, call it from the goroutine that uses the source.
func (s *Source) CurrentWatermark() int64 { return s.wm }

// Close ends this source: its watermark becomes +inf (math.MaxInt64), so it
// no longer holds back the partitions' watermarks. Further pushes fail with
// ErrClosed. Closing the query flushes everything whether or not its
// sources were closed.
func (s *Source) Close() error {
	q := s.q
	q.gate.RLock()
	defer q.gate.RUnlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if q.closing {
		return nil
	}
	if q.ctx.Err() != nil {
		return q.stopErr()
	}
	return s.advance(math.MaxInt64)
}
