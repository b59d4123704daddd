package partition

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

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
	// Routers is the number of goroutines that route this source's
	// records (see Config.Routers); 0 means Config.Routers.
	Routers int
}

// Source is one input of a query with its own router: it routes the records
// pushed to it, tracks its event-time watermark and broadcasts it to the
// partitions. A Source must be used by one goroutine at a time; different
// sources route concurrently. With several router goroutines
// (SourceOptions.Routers) Push only hands the record over and the routers
// deliver it (routers.go).
type Source struct {
	q        *Query
	id       int
	part     int  // source partition
	ownRoute bool // Smart keeps the source partition

	scr  routeScratch // routing on the caller's goroutine
	bind *binding     // columns of the last schema seen (never mutated)
	pool *routerPool  // router goroutines, or nil

	// Delivery state: touched by the goroutine that delivers (the caller,
	// or the router holding the turn).
	maxEvent int64
	wm       int64
	rr       int

	wmPub  atomic.Int64 // wm, for CurrentWatermark
	closed bool
}

// binding is the key and event-time columns resolved in one schema.
type binding struct {
	schema *arrow.Schema
	keyIdx []int
	etIdx  int   // -1: no event-time column
	ooo    int64 // max out-of-orderness in event-time units
}

// routeScratch is the per-router working memory of routing one record.
type routeScratch struct {
	hasher  keyHasher
	ids     []uint32
	counts  []int32 // N+1: the last bucket collects dropped rows
	starts  []int32
	cursors []int32
	late    []int64 // per partition
}

func newRouteScratch(n int) routeScratch {
	return routeScratch{
		counts:  make([]int32, n+1),
		starts:  make([]int32, n+1),
		cursors: make([]int32, n+1),
		late:    make([]int64, n),
	}
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
	if opts.Routers < 0 {
		return nil, fmt.Errorf("partition: %d router goroutines is negative", opts.Routers)
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
		scr:      newRouteScratch(n),
		maxEvent: math.MinInt64,
		wm:       math.MinInt64,
	}
	s.wmPub.Store(math.MinInt64)
	if opts.HasPartition {
		s.part = opts.Partition
	}
	s.ownRoute = q.cfg.Strategy == Smart && opts.HasPartition && slices.Equal(opts.PartitionedBy, q.cfg.KeyColumns)
	// Register with every partition: from now on the source holds their
	// watermarks back until its own advances.
	if err := s.advance(math.MinInt64); err != nil {
		return nil, err
	}
	routers := opts.Routers
	if routers == 0 {
		routers = q.cfg.Routers
	}
	if routers > 1 && s.hashes() {
		s.pool = q.startRouters(s, routers)
	}
	return s, nil
}

// hashes reports whether the source routes rows by the hash of their keys
// (the only routing with work worth spreading over router goroutines).
func (s *Source) hashes() bool {
	cfg := &s.q.cfg
	return len(s.q.parts) > 1 && (cfg.Strategy == Hash || cfg.Strategy == Smart && !s.ownRoute)
}

// ID returns the source's registration index.
func (s *Source) ID() int { return s.id }

// bindSchema resolves the key and event-time columns of a new schema.
func (s *Source) bindSchema(schema *arrow.Schema) (*binding, error) {
	if s.bind != nil && s.bind.schema == schema {
		return s.bind, nil
	}
	cfg := &s.q.cfg
	b := &binding{schema: schema, etIdx: -1}
	// Keys are resolved even when they are not needed (one partition), so
	// a wrong key column fails the same way at every partition count.
	needKeys := cfg.Strategy == Hash || (cfg.Strategy == Smart && !s.ownRoute)
	if needKeys {
		for _, name := range cfg.KeyColumns {
			idx := schema.FieldIndices(name)
			if len(idx) != 1 {
				return nil, fmt.Errorf("partition: key column %q: %d columns of that name in the source schema %s", name, len(idx), schema)
			}
			// The type matters only when rows are hashed (as before, one
			// partition accepts any key type).
			if s.hashes() {
				if err := checkKeyType(schema.Field(idx[0]).Type); err != nil {
					return nil, fmt.Errorf("partition: hash key column %q: %w", name, err)
				}
			}
			b.keyIdx = append(b.keyIdx, idx[0])
		}
	}
	if cfg.EventTimeColumn != "" {
		idx := schema.FieldIndices(cfg.EventTimeColumn)
		if len(idx) != 1 {
			return nil, fmt.Errorf("partition: event-time column %q: %d columns of that name in the source schema %s", cfg.EventTimeColumn, len(idx), schema)
		}
		b.etIdx = idx[0]
		switch dt := schema.Field(b.etIdx).Type.(type) {
		case *arrow.Int64Type:
			b.ooo = cfg.MaxOutOfOrderness.Milliseconds()
		case *arrow.TimestampType:
			switch dt.Unit {
			case arrow.Second:
				b.ooo = int64(cfg.MaxOutOfOrderness.Seconds())
			case arrow.Millisecond:
				b.ooo = cfg.MaxOutOfOrderness.Milliseconds()
			case arrow.Microsecond:
				b.ooo = cfg.MaxOutOfOrderness.Microseconds()
			default:
				b.ooo = cfg.MaxOutOfOrderness.Nanoseconds()
			}
		default:
			return nil, fmt.Errorf("partition: event-time column %q has type %s, want int64 (milliseconds) or timestamp", cfg.EventTimeColumn, dt)
		}
	}
	s.bind = b
	return b, nil
}

// routed is one record's routing, computed by prepare (on any router) and
// carried out by deliver (in push order).
type routed struct {
	rec    arrow.Record
	target int      // ≥ 0: every row goes to this partition
	ids    []uint32 // hash routing: each row's partition (scratch)
	sb     *selBuf  // the rows cut per partition (no references yet), or nil
	minEv  int64    // smallest valid event time (math.MaxInt64: none)
	maxEv  int64    // largest valid event time (math.MinInt64: none)
}

// times is the event-time range of r's record that its partition batches
// carry (columnar.Batch.Times), so the partitions' windows need not scan
// the column again; none without an event-time column.
func (r *routed) times(b *binding) columnar.TimeRange {
	if b.etIdx < 0 {
		return columnar.TimeRange{}
	}
	return columnar.TimeRange{Col: r.rec.Column(b.etIdx), Rows: r.rec.NumRows(), Min: r.minEv, Max: r.maxEv}
}

// Push routes rec to the partitions. rec is borrowed: every partition batch
// holds its own reference, so the caller releases rec as usual. Rows of one
// partition travel as one columnar.Batch sharing rec's columns with a
// selection vector (nil when the whole record goes to one partition); no
// column is copied. Push blocks while a target partition's channel is full
// and returns the query's error once the query stopped (rows not yet sent
// are then discarded).
//
// With router goroutines Push checks the schema, retains rec and hands it
// to the next router, blocking only while that router's queue is full; a
// routing error then stops the query (Wait returns it) instead of being
// returned here.
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
	b, err := s.bindSchema(rec.Schema())
	if err != nil {
		return err
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if len(q.parts) > 1 {
		columnar.PrepareShared(rec)
	}
	if s.pool != nil {
		return s.pool.hand(routeItem{kind: itemPush, rec: rec, b: b})
	}
	r := routed{rec: rec, target: -1}
	np := len(q.parts)
	switch {
	case np == 1, q.cfg.Strategy == FanIn:
		r.target = 0
	case q.cfg.Strategy == Sticky, q.cfg.Strategy == Smart && s.ownRoute:
		r.target = s.part % np
	case q.cfg.Strategy == RoundRobin:
		r.target = s.dealTarget()
	}
	if err := s.prepare(&s.scr, b, &r); err != nil {
		return err
	}
	return s.deliver(&s.scr, b, &r)
}

// dealTarget is the partition of round_robin's next whole record: the next
// in rotation, unless a later one's input queue is shorter — then the first
// with the shortest queue. A partition that falls behind (in two-phase
// windows, the one merging a window's partials) gets fewer records instead
// of holding the producer up while the others run dry; with the queues
// even it is plain rotation.
func (s *Source) dealTarget() int {
	q := s.q
	np := len(q.parts)
	start := (s.id + s.rr) % np
	s.rr = (s.rr + 1) % np
	best, bestLen := start, len(q.parts[start].in)
	for i := 1; i < np && bestLen > 0; i++ {
		p := (start + i) % np
		if l := len(q.parts[p].in); l < bestLen {
			best, bestLen = p, l
		}
	}
	return best
}

// prepare does the work of routing r.rec that does not depend on earlier
// records: the key hashes, each row's partition and the selection vectors
// (for hash routing, r.target < 0), and the event-time range.
func (s *Source) prepare(scr *routeScratch, b *binding, r *routed) error {
	q := s.q
	n := int(r.rec.NumRows())
	r.minEv, r.maxEv = math.MaxInt64, math.MinInt64
	if b.etIdx >= 0 {
		// MaxInt64 / MinInt64 without a valid value, as minEv and maxEv
		// want.
		var err error
		if r.minEv, r.maxEv, err = columnar.TimeBounds(r.rec.Column(b.etIdx)); err != nil {
			return fmt.Errorf("partition: event-time column %q: %w", q.cfg.EventTimeColumn, err)
		}
	}
	if r.target >= 0 {
		return nil
	}
	if q.cfg.Strategy == Window {
		s.windowCut(scr, b, r)
		return nil
	}
	np := len(q.parts)
	idx := n
	if np == 2 {
		idx = 2 * n // cutTwo's layout
	}
	sb := q.getSel(idx)
	if err := scr.hasher.hash(sb, r.rec, b); err != nil {
		q.putSel(sb)
		return err
	}
	r.sb = sb
	if np == 2 {
		s.cutTwo(scr, r)
		return nil
	}
	r.ids = s.partitionIDs(scr, r)
	s.cut(scr, r)
	return nil
}

// windowCut routes r.rec under the Window strategy: a record whose event
// times all lie in one window goes whole to that window's partition (the
// common case: prepare's range tells; rows without an event time go
// along); otherwise each row goes to its window's, rows without an event
// time to partition 0.
func (s *Source) windowCut(scr *routeScratch, b *binding, r *routed) {
	q := s.q
	np := int64(len(q.parts))
	size := q.cfg.WindowSize
	col := r.rec.Column(b.etIdx)
	lo, hi := columnar.FloorDiv(r.minEv, size), columnar.FloorDiv(r.maxEv, size)
	switch {
	case r.minEv > r.maxEv: // no event time at all
		r.target = 0
		return
	case lo == hi:
		// Rows without an event time go along: no window takes them.
		r.target = int(floorMod(lo, np))
		return
	}
	ev, _ := columnar.TimeValues(col) // checked by prepare
	valid, off := columnar.Validity(col)
	n := int(r.rec.NumRows())
	scr.ids = grow(scr.ids, n)
	ids := scr.ids[:n]
	for i, t := range ev[:n] {
		ids[i] = 0
		if columnar.IsValid(valid, off, i) {
			ids[i] = uint32(floorMod(columnar.FloorDiv(t, size), np))
		}
	}
	r.ids = ids
	r.sb = q.getSel(n)
	s.cut(scr, r)
	if r.target >= 0 {
		q.putSel(r.sb) // one partition after all: the whole record, no selection
		r.sb = nil
	}
}

// floorMod is a mod b in [0, b) for b > 0.
func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// partitionIDs computes each row's partition from the record's key hashes
// (in r.sb) into scr.ids.
func (s *Source) partitionIDs(scr *routeScratch, r *routed) []uint32 {
	n := int(r.rec.NumRows())
	scr.ids = grow(scr.ids, n)
	kernels.PartitionIDs(scr.ids[:n], r.sb.hashes[:n], len(s.q.parts))
	return scr.ids[:n]
}

// cutTwo is cut for two partitions, straight from the key hashes:
// kernels.SplitTwo writes the row indices of partition 0 and 1 to the two
// halves of the 2n-entry selection buffer in one vectorised pass, without
// per-row partition ids (deliver computes those only when rows are late).
func (s *Source) cutTwo(scr *routeScratch, r *routed) {
	n := int(r.rec.NumRows())
	sb := r.sb
	c0, c1 := kernels.SplitTwo(sb.idx[:n], sb.idx[n:2*n], sb.hashes[:n], 0)
	switch {
	case c0 == n:
		r.target = 0
	case c1 == n:
		r.target = 1
	default:
		scr.counts[0], scr.counts[1], scr.counts[2] = int32(c0), int32(c1), 0
		scr.starts[0], scr.starts[1] = 0, int32(n)
		r.target = -1
	}
}

// cut counts r.ids per partition and, unless every row goes to one
// partition (then r.target is set), scatters the row indices into the
// selection buffer r.sb (which holds the record's key hashes), laid out
// partition after partition.
func (s *Source) cut(scr *routeScratch, r *routed) {
	np := len(s.q.parts)
	n := len(r.ids)
	counts := scr.counts[:np+1]
	kernels.Histogram(counts, r.ids)
	for p := range np {
		if int(counts[p]) == n {
			r.target = p
			return
		}
	}
	r.target = -1
	if int(counts[np]) == n {
		return // every row was dropped
	}
	kernels.PartitionStarts(scr.starts[:np+1], counts)
	copy(scr.cursors, scr.starts)
	r.sb.idx = grow(r.sb.idx, n)
	kernels.ScatterIndices(r.sb.idx, r.ids, scr.cursors[:np+1])
}

// deliver sends a prepared record to the partitions, in push order: it
// counts (and with LateDrop drops) the rows below the watermark, sends the
// partition batches and advances the watermark.
func (s *Source) deliver(scr *routeScratch, b *binding, r *routed) error {
	q := s.q
	np := len(q.parts)
	if b.etIdx >= 0 && r.minEv < s.wm {
		// Some rows are late: below the watermark before this record.
		col := r.rec.Column(b.etIdx)
		ev, _ := columnar.TimeValues(col) // checked by prepare
		valid, off := columnar.Validity(col)
		wm := s.wm
		drop := q.cfg.LatePolicy == LateDrop
		if r.ids == nil && r.target < 0 {
			// Cut by cutTwo: each row's partition from its hash.
			r.ids = s.partitionIDs(scr, r)
		}
		if drop && r.ids == nil {
			// Materialise the ids so the late rows can be dropped.
			scr.ids = grow(scr.ids, len(ev))
			r.ids = scr.ids[:len(ev)]
			for j := range r.ids {
				r.ids[j] = uint32(r.target)
			}
		}
		clear(scr.late)
		var lateRows int64
		for i, v := range ev[:r.rec.NumRows()] {
			if v >= wm || !columnar.IsValid(valid, off, i) {
				continue
			}
			lateRows++
			p := r.target
			if r.ids != nil {
				p = int(r.ids[i])
			}
			if p == np {
				continue // dropped already
			}
			scr.late[p]++
			if drop {
				r.ids[i] = uint32(np)
			}
		}
		for p, l := range scr.late {
			if l > 0 {
				q.parts[p].c.late.Add(l)
				if drop {
					q.parts[p].c.dropped.Add(l)
				}
			}
		}
		if q.cfg.LatePolicy == LateWarn {
			q.warnLate(s.id, lateRows, wm)
		}
		if drop {
			// Cut again without the dropped rows.
			if r.sb == nil {
				r.sb = q.getSel(len(r.ids))
			}
			s.cut(scr, r)
		}
	}

	t := now()
	sb := r.sb
	r.sb = nil
	times := r.times(b)
	switch {
	case r.target >= 0 && sb != nil:
		// Hash routing sent every row to one partition (or LateDrop's
		// re-cut did): the whole record, with its key hashes if any.
		sb.refs.Store(1)
		b := columnar.NewBatch(r.rec, nil)
		b.Keys = sb.batchKeys()
		b.Times = times
		if err := s.sendBatch(r.target, b, sb, t); err != nil {
			return err
		}
	case r.target >= 0:
		b := columnar.NewBatch(r.rec, nil)
		b.Times = times
		if err := s.sendBatch(r.target, b, nil, t); err != nil {
			return err
		}
	case sb != nil && int(scr.counts[np]) == int(r.rec.NumRows()):
		q.putSel(sb) // every row was dropped
	case sb != nil:
		if err := s.sendCut(scr, r.rec, sb, times, t); err != nil {
			return err
		}
	}
	if r.maxEv > s.maxEvent {
		s.maxEvent = r.maxEv
		wm := r.maxEv - b.ooo
		if r.maxEv < math.MinInt64+b.ooo {
			wm = math.MinInt64
		}
		if wm > s.wm {
			return s.advance(wm)
		}
	}
	return nil
}

// sendCut sends each partition its rows of rec: a sub-slice of sb, whose
// per-partition counts and starts cut left in scr.
func (s *Source) sendCut(scr *routeScratch, rec arrow.Record, sb *selBuf, times columnar.TimeRange, t int64) error {
	np := len(s.q.parts)
	counts := scr.counts[:np]
	var targets int32
	for _, c := range counts {
		if c > 0 {
			targets++
		}
	}
	// Each partition batch holds a reference to sb and the last release
	// returns it to the query's free list. The references are taken before
	// the first send, so an early release cannot recycle it while it is
	// still being cut.
	sb.refs.Store(targets)
	sel := sb.idx
	for p, c := range counts {
		if c == 0 {
			continue
		}
		st := scr.starts[p]
		targets--
		b := columnar.NewBatch(rec, sel[st:st+c:st+c])
		b.Keys = sb.batchKeys()
		b.Times = times
		if err := s.sendBatch(p, b, sb, t); err != nil {
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
	s.wmPub.Store(wm)
	for p := range s.q.parts {
		if err := s.q.send(p, message{kind: msgWatermark, src: int32(s.id), wm: wm, enq: now()}); err != nil {
			return err
		}
	}
	return nil
}

// Watermark advances the source's watermark to ts (in event-time units)
// when ts is above it and broadcasts it to every partition; rows below it
// arriving later on this source are late. Watermarks never go back. With
// router goroutines it takes effect after the records pushed before it.
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
	if s.pool != nil {
		return s.pool.hand(routeItem{kind: itemWatermark, wm: ts})
	}
	return s.watermark(ts)
}

// watermark is Watermark's delivery.
func (s *Source) watermark(ts int64) error {
	if ts <= s.wm {
		return nil
	}
	return s.advance(ts)
}

// CurrentWatermark returns the source's watermark (math.MinInt64 before the
// first). With router goroutines it is the watermark of the records
// delivered so far.
func (s *Source) CurrentWatermark() int64 { return s.wmPub.Load() }

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
	if s.pool != nil {
		err := s.pool.hand(routeItem{kind: itemWatermark, wm: math.MaxInt64})
		s.pool.closeInput()
		return err
	}
	return s.advance(math.MaxInt64)
}
