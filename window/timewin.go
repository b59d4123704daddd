package window

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// Kind is the kind of time window.
type Kind int

const (
	// None is no time window: the operator is a GROUP BY whose result is
	// emitted at Finish (EMIT FINAL) or updated after every batch (EMIT CHANGES).
	None Kind = iota
	// Tumbling windows [k·size, (k+1)·size).
	Tumbling
	// Sliding (hopping) windows of SizeMs starting every SlideMs.
	Sliding
	// Session windows per group key, closed by a gap of GapMs without rows.
	Session
)

// String returns the SQL name of the window kind.
func (k Kind) String() string {
	switch k {
	case Tumbling:
		return "TUMBLING"
	case Sliding:
		return "SLIDING"
	case Session:
		return "SESSION"
	}
	return "NONE"
}

// LatePolicy says what happens to a late row (see the package doc).
type LatePolicy int

const (
	// LateDrop counts late rows and does not process them (the default).
	LateDrop LatePolicy = iota
	// LateWarn processes a late row into those of its windows that are still
	// open (drops it when there is none), counts it and logs at most once per
	// second.
	LateWarn
	// LateProcess processes a late row into all its windows, re-opening closed
	// ones (see the package doc), and counts it.
	LateProcess
)

// ParseLatePolicy parses the 'late.data.strategy' setting: drop, warn or
// process (case-insensitive).
func ParseLatePolicy(s string) (LatePolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "drop":
		return LateDrop, nil
	case "warn":
		return LateWarn, nil
	case "process":
		return LateProcess, nil
	}
	return 0, fmt.Errorf("window: late.data.strategy %q: want drop, warn or process", s)
}

// String returns the setting's spelling of the policy.
func (p LatePolicy) String() string {
	switch p {
	case LateWarn:
		return "warn"
	case LateProcess:
		return "process"
	}
	return "drop"
}

// EmitMode selects when results are emitted.
type EmitMode int

const (
	// EmitFinal emits each window's rows once, when it closes (the default).
	EmitFinal EmitMode = iota
	// EmitChanges emits, after each batch, the current row of every
	// (window, group) the batch touched.
	EmitChanges
)

// DefaultMaxOutOfOrdernessMs is the watermark delay used when
// Spec.MaxOutOfOrdernessMs is 0.
const DefaultMaxOutOfOrdernessMs = 5000

// NoOutOfOrderness is the Spec.MaxOutOfOrdernessMs value for a watermark
// equal to the maximum event time seen (0 means the default, 5 s).
const NoOutOfOrderness = -1

// Spec describes a windowed (or plain, Kind None) aggregation. Durations are
// milliseconds; for a timestamp time column they are converted to its unit.
type Spec struct {
	Kind    Kind
	TimeCol int   // index of the event-time column (int64 ms or timestamp); unused with None
	SizeMs  int64 // Tumbling, Sliding
	SlideMs int64 // Sliding (0: = SizeMs, i.e. tumbling)
	GapMs   int64 // Session

	// MaxOutOfOrdernessMs delays the watermark behind the maximum event
	// time seen: 0 means DefaultMaxOutOfOrdernessMs, NoOutOfOrderness none.
	MaxOutOfOrdernessMs int64
	// AllowedLatenessMs keeps a window open that long after the watermark
	// passed its end.
	AllowedLatenessMs int64
	// ExternalWatermark makes the caller the only source of the watermark:
	// Push assigns rows and judges lateness against the watermark last set
	// by AdvanceWatermark (math.MinInt64 before the first) and never moves
	// it, whatever the rows' event times; windows close only in
	// AdvanceWatermark and Finish. The caller generates the watermark where
	// the rows enter the query (Flink's source watermarks), e.g. after each
	// input batch max event time − out-of-orderness, so that several
	// operators fed different subsets of the rows (partitions) share one
	// watermark. MaxOutOfOrdernessMs is then unused.
	ExternalWatermark bool
	Late              LatePolicy
	Emit              EmitMode

	Keys []agg.KeySpec // group keys (columns of the input)
	Aggs []agg.AggSpec // aggregates

	// Logger receives the LateWarn messages (nil: slog.Default()).
	Logger *slog.Logger
	// StartName and EndName name the window bound columns (defaults
	// "window_start", "window_end").
	StartName, EndName string
}

// Stats are an operator's counters. Every pushed row is accounted for:
// Rows = NullTime + on-time rows + LateRows, and LateRows = LateDropped +
// LateProcessed.
type Stats struct {
	Rows          int64 // selected rows pushed
	NullTime      int64 // rows with a NULL event time (skipped)
	LateRows      int64 // rows that arrived after (one of) their window(s) closed
	LateDropped   int64 // late rows processed into no window
	LateProcessed int64 // late rows processed into at least one window
	Windows       int64 // windows (sessions) emitted or closed
	Reopened      int64 // closed windows re-opened by LateProcess rows
	Merges        int64 // session merges
	OutputRows    int64 // rows emitted
	Open          int   // windows (sessions) currently holding state
	Watermark     int64 // current watermark, in time-column units
}

// win is the state of one open window (or session, or the whole GROUP BY
// with Kind None): its own aggregator over the input, fed through a
// selection vector of the current batch's rows that fall into it.
type win struct {
	start, end int64
	a          *agg.Aggregator
	sel        []int32
	mark       []uint32 // EMIT CHANGES: epoch per group id
	before     []int64  // EMIT CHANGES: the groups' row counts before an update
	touched    uint32   // epoch of the last batch that touched it
	unsorted   bool     // sel not in row order (session merge)
	dead       bool     // merged into another session
	reopened   bool
}

// TimeWindow is the windowed aggregation operator: it assigns rows to time
// windows, keeps one agg.Aggregator per open window, tracks the watermark,
// and emits closed windows (EMIT FINAL) or changed rows (EMIT CHANGES).
// It is driven by one goroutine.
type TimeWindow struct {
	mem      memory.Allocator
	spec     Spec
	input    *arrow.Schema
	schema   *arrow.Schema
	aggSch   *arrow.Schema
	timeType arrow.DataType
	// consts holds the last window_start/window_end columns EMIT CHANGES
	// built: the next emission of the same window slices them instead of
	// filling new ones (one value per row, two columns per emission).
	consts    [4]constCol
	constNext int
	nkeys     int

	size, slide, gap, ooo, lateness int64 // time-column units

	wm       int64
	stats    Stats
	epoch    uint32
	pool     []*agg.Aggregator
	wins     map[int64]*win // Tumbling, Sliding by start
	open     []*win         // Tumbling, Sliding: sorted by start
	last     *win
	global   *win // None
	touched  []*win
	keyTable *agg.KeyTable
	keyIDs   []uint32
	keyCols  []arrow.Array
	keyIdx   []int               // Session: the key columns
	keys     *columnar.KeyHashes // the pushed batch's key hashes, during Push
	sess     [][]*win            // Session: per key id, sorted by start, disjoint
	nsess    int
	logger   *slog.Logger
	lastLog  time.Time
	logLate  int64
	sels     [][]int32 // selection buffers of closed windows, for new ones
	merger   *Merger   // partial mode (Partial): where closed windows go
	part     int       // partial mode: this operator's index in merger
}

// NewTimeWindow returns the operator for spec over batches of input.
func NewTimeWindow(mem memory.Allocator, input *arrow.Schema, spec Spec) (*TimeWindow, error) {
	w := &TimeWindow{mem: mem, spec: spec, input: input, nkeys: len(spec.Keys), wm: math.MinInt64, wins: map[int64]*win{}}
	a, err := agg.New(mem, input, spec.Keys, spec.Aggs)
	if err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	w.pool = append(w.pool, a)
	w.aggSch = a.Schema()
	w.logger = spec.Logger
	if w.logger == nil {
		w.logger = slog.Default()
	}
	if spec.Kind == None {
		w.schema = w.aggSch
		w.global = &win{start: math.MinInt64, end: math.MaxInt64, a: w.takeAgg()}
		return w, nil
	}
	if spec.Kind < None || spec.Kind > Session {
		return nil, fmt.Errorf("window: unknown window kind %d", spec.Kind)
	}
	if spec.TimeCol < 0 || spec.TimeCol >= input.NumFields() {
		return nil, fmt.Errorf("window: time column %d out of range (input has %d columns)", spec.TimeCol, input.NumFields())
	}
	tf := input.Field(spec.TimeCol)
	w.timeType = tf.Type
	mul := int64(1)
	switch t := tf.Type.(type) {
	case *arrow.Int64Type:
	case *arrow.TimestampType:
		switch t.Unit {
		case arrow.Second:
			mul = 0 // milliseconds must be whole seconds, checked by conv
		case arrow.Microsecond:
			mul = 1000
		case arrow.Nanosecond:
			mul = 1_000_000
		}
	default:
		return nil, fmt.Errorf("window: time column %q has type %s, want int64 milliseconds or timestamp", tf.Name, tf.Type)
	}
	conv := func(name string, ms int64) (int64, error) {
		if mul == 0 {
			if ms%1000 != 0 {
				return 0, fmt.Errorf("window: %s %d ms is not whole seconds (time column %q is timestamp[s])", name, ms, tf.Name)
			}
			return ms / 1000, nil
		}
		if ms > math.MaxInt64/mul || ms < math.MinInt64/mul {
			return 0, fmt.Errorf("window: %s %d ms overflows time column %q's unit", name, ms, tf.Name)
		}
		return ms * mul, nil
	}
	ooo := spec.MaxOutOfOrdernessMs
	switch {
	case ooo == 0:
		ooo = DefaultMaxOutOfOrdernessMs
	case ooo == NoOutOfOrderness:
		ooo = 0
	case ooo < 0:
		return nil, fmt.Errorf("window: max out-of-orderness %d ms is negative", ooo)
	}
	if spec.AllowedLatenessMs < 0 {
		return nil, fmt.Errorf("window: allowed lateness %d ms is negative", spec.AllowedLatenessMs)
	}
	if w.ooo, err = conv("max out-of-orderness", ooo); err != nil {
		return nil, err
	}
	if w.lateness, err = conv("allowed lateness", spec.AllowedLatenessMs); err != nil {
		return nil, err
	}
	switch spec.Kind {
	case Tumbling, Sliding:
		if spec.SizeMs <= 0 {
			return nil, fmt.Errorf("window: %s size must be positive, got %d ms", spec.Kind, spec.SizeMs)
		}
		slide := spec.SlideMs
		if spec.Kind == Tumbling || slide == 0 {
			slide = spec.SizeMs
		}
		if slide <= 0 || slide > spec.SizeMs {
			return nil, fmt.Errorf("window: SLIDING slide %d ms must be in (0, size %d ms]", slide, spec.SizeMs)
		}
		if spec.SizeMs/slide > 100_000 {
			return nil, fmt.Errorf("window: SLIDING size/slide = %d windows per row is too many (max 100000)", spec.SizeMs/slide)
		}
		if w.size, err = conv("size", spec.SizeMs); err != nil {
			return nil, err
		}
		if w.slide, err = conv("slide", slide); err != nil {
			return nil, err
		}
	case Session:
		if spec.GapMs <= 0 {
			return nil, fmt.Errorf("window: SESSION gap must be positive, got %d ms", spec.GapMs)
		}
		if w.gap, err = conv("gap", spec.GapMs); err != nil {
			return nil, err
		}
		var types []arrow.DataType
		for _, k := range spec.Keys {
			types = append(types, input.Field(k.Column).Type)
			w.keyIdx = append(w.keyIdx, k.Column)
		}
		if len(types) > 0 {
			if w.keyTable, err = agg.NewKeyTable(types); err != nil {
				return nil, fmt.Errorf("window: session keys: %w", err)
			}
		}
	}
	sn, en := spec.StartName, spec.EndName
	if sn == "" {
		sn = "window_start"
	}
	if en == "" {
		en = "window_end"
	}
	fs := w.aggSch.Fields()
	fields := slices.Clone(fs[:w.nkeys])
	fields = append(fields, arrow.Field{Name: sn, Type: w.timeType}, arrow.Field{Name: en, Type: w.timeType})
	fields = append(fields, fs[w.nkeys:]...)
	w.schema = arrow.NewSchema(fields, nil)
	return w, nil
}

// Schema returns the output schema: group keys, window_start, window_end
// (time column type), aggregates; with Kind None keys and aggregates.
func (w *TimeWindow) Schema() *arrow.Schema { return w.schema }

// Watermark returns the current watermark (math.MinInt64 before any row).
func (w *TimeWindow) Watermark() int64 { return w.wm }

// Stats returns the counters.
func (w *TimeWindow) Stats() Stats {
	s := w.stats
	s.Watermark = w.wm
	switch w.spec.Kind {
	case None:
		s.Open = 1
	case Session:
		s.Open = w.nsess
	default:
		s.Open = len(w.open)
	}
	return s
}

func (w *TimeWindow) takeAgg() *agg.Aggregator {
	if len(w.pool) == 0 && w.merger != nil {
		w.pool = w.merger.refill(w.pool)
	}
	if n := len(w.pool); n > 0 {
		a := w.pool[n-1]
		w.pool = w.pool[:n-1]
		return a
	}
	a, err := agg.New(w.mem, w.input, w.spec.Keys, w.spec.Aggs)
	if err != nil {
		panic(err) // the same arguments succeeded in NewTimeWindow
	}
	return a
}

// takeSel returns an empty selection buffer for a new window, reusing a
// closed window's (a window's buffer grows to a batch's rows once).
func (w *TimeWindow) takeSel() []int32 {
	if n := len(w.sels); n > 0 {
		s := w.sels[n-1]
		w.sels = w.sels[:n-1]
		return s[:0]
	}
	return nil
}

// putSel keeps a closed window's selection buffer for takeSel (a few).
func (w *TimeWindow) putSel(s []int32) {
	if cap(s) > 0 && len(w.sels) < 16 {
		w.sels = append(w.sels, s)
	}
}

func (w *TimeWindow) freeAgg(a *agg.Aggregator) {
	a.Reset()
	w.pool = append(w.pool, a)
}

func satAdd(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// closedAt reports whether a window ending at end is closed at watermark wm.
func (w *TimeWindow) closedAt(end, wm int64) bool {
	return wm == math.MaxInt64 || satAdd(end, w.lateness) <= wm
}

func (w *TimeWindow) touch(x *win, r int32) {
	if x.touched != w.epoch {
		x.touched = w.epoch
		x.sel = x.sel[:0]
		w.touched = append(w.touched, x)
	}
	x.sel = append(x.sel, r)
}

// windowAt returns the window starting at s, creating it.
func (w *TimeWindow) windowAt(s int64) *win {
	if w.last != nil && w.last.start == s {
		return w.last
	}
	x := w.wins[s]
	if x == nil {
		x = &win{start: s, end: satAdd(s, w.size), a: w.takeAgg(), sel: w.takeSel()}
		if w.closedAt(x.end, w.wm) {
			x.reopened = true
			if w.merger == nil { // partial: counted once per merged firing (Merger.hand)
				w.stats.Reopened++
			}
		}
		w.wins[s] = x
		i, _ := slices.BinarySearchFunc(w.open, s, func(o *win, s int64) int {
			switch {
			case o.start < s:
				return -1
			case o.start > s:
				return 1
			}
			return 0
		})
		w.open = slices.Insert(w.open, i, x)
	}
	w.last = x
	return x
}

func (w *TimeWindow) late(processed bool) {
	w.stats.LateRows++
	if processed {
		w.stats.LateProcessed++
	} else {
		w.stats.LateDropped++
	}
	if w.spec.Late == LateWarn {
		w.logLate++
		if now := time.Now(); now.Sub(w.lastLog) >= time.Second {
			w.logger.Warn("window: late rows", "rows", w.logLate, "late_total", w.stats.LateRows,
				"dropped_total", w.stats.LateDropped, "watermark", w.wm)
			w.lastLog, w.logLate = now, 0
		}
	}
}

// assign routes row r at time t to its tumbling or sliding windows.
func (w *TimeWindow) assign(t int64, r int32) {
	last := columnar.FloorDiv(t, w.slide) * w.slide
	first := last
	if w.slide != w.size {
		k := (last - (t - w.size) - 1) / w.slide
		first = last - k*w.slide
	}
	if !w.closedAt(satAdd(first, w.size), w.wm) {
		for s := first; s <= last; s += w.slide {
			w.touch(w.windowAt(s), r)
		}
		return
	}
	switch w.spec.Late {
	case LateDrop:
		w.late(false)
	case LateWarn:
		any := false
		for s := first; s <= last; s += w.slide {
			if !w.closedAt(satAdd(s, w.size), w.wm) {
				w.touch(w.windowAt(s), r)
				any = true
			}
		}
		w.late(any)
	case LateProcess:
		for s := first; s <= last; s += w.slide {
			w.touch(w.windowAt(s), r)
		}
		w.late(true)
	}
}

// assignSession routes row r of key kid at time t to its session, merging
// the sessions it bridges.
func (w *TimeWindow) assignSession(kid uint32, t int64, r int32) {
	for int(kid) >= len(w.sess) {
		w.sess = append(w.sess, nil)
	}
	list := w.sess[kid]
	end := satAdd(t, w.gap)
	lo, hi := -1, -1 // overlapping sessions list[lo:hi]
	for i, s := range list {
		if s.start < end && t < s.end && (w.spec.Late == LateProcess || !w.closedAt(s.end, w.wm)) {
			if lo < 0 {
				lo = i
			}
			hi = i + 1
		} else if s.start >= end {
			break
		}
	}
	if lo < 0 {
		late := w.closedAt(end, w.wm)
		if late && w.spec.Late != LateProcess {
			w.late(false)
			return
		}
		x := &win{start: t, end: end, a: w.takeAgg(), sel: w.takeSel()}
		if late {
			x.reopened = true
			if w.merger == nil { // partial: counted once per merged firing (Merger.hand)
				w.stats.Reopened++
			}
			w.late(true)
		}
		i := 0
		for i < len(list) && list[i].start < t {
			i++
		}
		w.sess[kid] = slices.Insert(list, i, x)
		w.nsess++
		w.touch(x, r)
		return
	}
	x := list[lo]
	for _, o := range list[lo+1 : hi] {
		if o.dead {
			continue
		}
		if err := x.a.Merge(o.a); err != nil {
			panic(err) // same shapes by construction
		}
		if o.touched == w.epoch {
			if x.touched != w.epoch {
				x.touched = w.epoch
				x.sel = x.sel[:0]
				w.touched = append(w.touched, x)
			}
			x.sel = append(x.sel, o.sel...)
			x.unsorted = true
		}
		x.start = min(x.start, o.start)
		x.end = max(x.end, o.end)
		o.dead = true
		w.freeAgg(o.a)
		o.a = nil
		w.nsess--
		w.stats.Merges++
	}
	if hi-lo > 1 {
		w.sess[kid] = slices.Delete(list, lo+1, hi)
	}
	x.start = min(x.start, t)
	x.end = max(x.end, end)
	w.touch(x, r)
}

// Push processes one batch: rows are assigned to windows and aggregated,
// the watermark advances (not with Spec.ExternalWatermark), and the records
// to emit are returned (EMIT CHANGES: the touched (window, group) rows;
// EMIT FINAL: windows closed by the advanced watermark). The caller
// releases the records; b is not retained.
func (w *TimeWindow) Push(b columnar.Batch) ([]arrow.Record, error) {
	rec := b.Rec
	if int(rec.NumCols()) != w.input.NumFields() {
		return nil, fmt.Errorf("window: batch has %d columns, input schema has %d", rec.NumCols(), w.input.NumFields())
	}
	w.epoch++
	w.touched = w.touched[:0]
	w.last = nil
	w.keys = b.Keys
	defer func() { w.keys = nil }() // the batch's keys live for this call only
	n := b.Len()
	w.stats.Rows += int64(n)
	if w.spec.Kind == None {
		if n > 0 {
			x := w.global
			x.touched = w.epoch
			x.sel = append(x.sel[:0], b.Sel...)
			if b.Sel == nil {
				x.sel = nil
			}
			w.touched = append(w.touched, x)
		}
		return w.flush(rec, b.Sel == nil)
	}
	tcol := rec.Column(w.spec.TimeCol)
	if !arrow.TypeEqual(tcol.DataType(), w.timeType) {
		return nil, fmt.Errorf("window: time column %q: batch has type %s, want %s", w.input.Field(w.spec.TimeCol).Name, tcol.DataType(), w.timeType)
	}
	times := arrow.Int64Traits.CastFromBytes(tcol.Data().Buffers()[1].Bytes())[tcol.Data().Offset():]
	hasNulls := tcol.NullN() > 0
	if w.spec.Kind == Session && w.keyTable != nil {
		w.keyCols = w.keyCols[:0]
		for _, k := range w.spec.Keys {
			w.keyCols = append(w.keyCols, rec.Column(k.Column))
		}
		if cap(w.keyIDs) < int(rec.NumRows()) {
			w.keyIDs = make([]uint32, rec.NumRows())
		}
		w.keyIDs = w.keyIDs[:rec.NumRows()]
		if _, err := w.keyTable.InsertHashed(w.keyCols, b.Sel, w.keyIDs, b.Keys.ForColumns(w.keyIdx, int(rec.NumRows()))); err != nil {
			return nil, fmt.Errorf("window: session keys: %w", err)
		}
	}
	if w.spec.Kind == Tumbling && !hasNulls && oneWindowBatches {
		if out, ok, err := w.pushOneWindow(b, times); ok {
			return out, err
		}
	}
	// Tumbling fast path: rows of the window of the previous row (not
	// closed at the current watermark) skip the general assignment.
	var cur *win
	curStart, curEnd, curClose := int64(0), int64(0), int64(math.MinInt64)
	tumbling := w.spec.Kind == Tumbling
	external := w.spec.ExternalWatermark
	for i := 0; i < n; i++ {
		r := i
		if b.Sel != nil {
			r = int(b.Sel[i])
		}
		if hasNulls && tcol.IsNull(r) {
			w.stats.NullTime++
			continue
		}
		t := times[r]
		if tumbling {
			if t >= curStart && t < curEnd && w.wm < curClose {
				cur.sel = append(cur.sel, int32(r))
			} else {
				w.assign(t, int32(r))
				if x := w.last; x != nil && x.touched == w.epoch {
					cur, curStart, curEnd, curClose = x, x.start, x.end, satAdd(x.end, w.lateness)
				}
			}
		} else if w.spec.Kind == Session {
			var kid uint32
			if w.keyTable != nil {
				kid = w.keyIDs[r]
			}
			w.assignSession(kid, t, int32(r))
		} else {
			w.assign(t, int32(r))
		}
		if external {
			continue
		}
		if wm := satAdd(t, -w.ooo); wm > w.wm && w.wm != math.MaxInt64 {
			w.wm = wm
		}
	}
	out, err := w.flush(rec, false)
	if err != nil {
		return nil, err
	}
	if external {
		return out, nil
	}
	closed, err := w.closeDue()
	if err != nil {
		releaseRecords(out)
		return nil, err
	}
	return append(out, closed...), nil
}

// oneWindowBatches enables pushOneWindow (tests and benchmarks turn it off
// to compare with the row-by-row assignment).
var oneWindowBatches = true

// pushOneWindow is Push for a tumbling batch without NULL event times whose
// rows all fall into one window that is open at the watermark before the
// batch (in market data, most batches): no row is late — the watermark
// stays below the window's end while its rows arrive, since it trails the
// latest of them — so the window takes the whole batch (its selection, or
// every row) without a per-row assignment. It reports false, having done
// nothing, for any other batch.
func (w *TimeWindow) pushOneWindow(b columnar.Batch, times []int64) ([]arrow.Record, bool, error) {
	n := b.Len()
	if n == 0 {
		return nil, false, nil
	}
	// The record's range, when the router computed it (the batch has no
	// NULL event times here, so it is the range of every row).
	recLo, recHi, known := b.RangeOf(b.Rec.Column(w.spec.TimeCol))
	var lo, hi int64
	if b.Sel == nil {
		if known {
			lo, hi = recLo, recHi
		} else {
			lo, hi = minMax(times[:n])
		}
	} else {
		times = times[:b.Rec.NumRows()]
		one := false
		if w.spec.ExternalWatermark {
			// When the whole record lies in one window, so does the
			// selection: one contiguous pass instead of gathers (hi then
			// only picks the window, as the watermark is external).
			if known {
				lo, hi = recLo, recHi
			} else {
				lo, hi = minMax(times)
			}
			one = columnar.FloorDiv(lo, w.slide) == columnar.FloorDiv(hi, w.slide)
		}
		if !one {
			// The reduce kernels over the selection (vectorised gathers).
			lo, _ = kernels.MinInt64(times, nil, 0, b.Sel)
			hi, _ = kernels.MaxInt64(times, nil, 0, b.Sel)
		}
	}
	start := columnar.FloorDiv(lo, w.slide) * w.slide
	if columnar.FloorDiv(hi, w.slide)*w.slide != start || w.closedAt(satAdd(start, w.size), w.wm) {
		return nil, false, nil
	}
	x := w.windowAt(start)
	w.touch(x, 0)
	x.sel = append(x.sel[:0], b.Sel...)
	if !w.spec.ExternalWatermark {
		if wm := satAdd(hi, -w.ooo); wm > w.wm && w.wm != math.MaxInt64 {
			w.wm = wm
		}
	}
	out, err := w.flush(b.Rec, b.Sel == nil)
	if err != nil || w.spec.ExternalWatermark {
		return out, true, err
	}
	closed, err := w.closeDue()
	if err != nil {
		releaseRecords(out)
		return nil, true, err
	}
	return append(out, closed...), true, nil
}

// touchedByMarks returns, in id order, the groups of x's aggregator that
// the last update (rows rows through sel) touched: each row marks its group
// with the batch's epoch.
func (w *TimeWindow) touchedByMarks(x *win, sel []int32, rows int) []uint32 {
	gids := x.a.GroupIDs()
	ng := x.a.NumGroups()
	if len(x.mark) < ng {
		x.mark = slices.Grow(x.mark, ng-len(x.mark))[:ng]
	}
	var ids []uint32
	if sel == nil {
		for _, g := range gids[:rows] {
			if x.mark[g] != w.epoch {
				x.mark[g] = w.epoch
				ids = append(ids, g)
			}
		}
	} else {
		for _, r := range sel {
			if g := gids[r]; x.mark[g] != w.epoch {
				x.mark[g] = w.epoch
				ids = append(ids, g)
			}
		}
	}
	if len(ids)*8 > ng { // dense: a scan of the marks is cheaper than a sort
		ids = ids[:0]
		for g, m := range x.mark[:ng] {
			if m == w.epoch {
				ids = append(ids, uint32(g))
			}
		}
	} else {
		slices.Sort(ids)
	}
	return ids
}

// updatedRows is the number of rows a batch of rows rows and selection sel
// updates.
func updatedRows(rows int, sel []int32) int {
	if sel != nil {
		return len(sel)
	}
	return rows
}

// touchedByCounts returns, in id order, the groups whose row count grew
// from before to after, and those created since (ids from len(before)).
func touchedByCounts(before, after []int64) []uint32 {
	var ids []uint32
	for g, n := range before {
		if after[g] != n {
			ids = append(ids, uint32(g))
		}
	}
	for g := len(before); g < len(after); g++ {
		ids = append(ids, uint32(g))
	}
	return ids
}

// minMax returns the least and the greatest of v (not empty), through the
// reduce kernels: 0.15 ns a row for both with AVX-512, where a four-lane Go
// loop took 0.43 (8192 rows).
func minMax(v []int64) (int64, int64) {
	lo, _ := kernels.MinInt64(v, nil, 0, nil)
	hi, _ := kernels.MaxInt64(v, nil, 0, nil)
	return lo, hi
}

func releaseRecords(rs []arrow.Record) {
	for _, r := range rs {
		r.Release()
	}
}

// flush folds the touched windows' selections into their aggregators and,
// with EMIT CHANGES, returns the touched rows.
func (w *TimeWindow) flush(rec arrow.Record, all bool) ([]arrow.Record, error) {
	var out []arrow.Record
	n := int(rec.NumRows())
	touched := w.touched[:0]
	for _, x := range w.touched {
		if !x.dead {
			touched = append(touched, x)
		}
	}
	w.touched = touched
	if w.spec.Kind != Session {
		slices.SortFunc(touched, func(a, b *win) int { return cmpInt(a.start, b.start) })
	}
	// agg.Update costs O(record rows) whatever the selection, so windows
	// holding a small share of the batch (sessions, many small windows) are
	// fed slices of one compacted copy of their rows instead.
	var compact arrow.Record
	var offs []int
	if !all && len(touched) > 2 {
		var idx []int32
		offs = make([]int, len(touched))
		for i, x := range touched {
			offs[i] = -1
			if x.unsorted {
				slices.Sort(x.sel)
				x.unsorted = false
			}
			if len(x.sel)*8 < n {
				offs[i] = len(idx)
				idx = append(idx, x.sel...)
			}
		}
		if len(idx) > 0 {
			c, err := gatherRecord(w.mem, rec, idx)
			if err != nil {
				return nil, err
			}
			compact = c
			defer compact.Release()
		}
	}
	for ti, x := range touched {
		sel := x.sel
		if x.unsorted {
			slices.Sort(sel)
			x.unsorted = false
		}
		if all || (len(sel) == n && len(touched) == 1 && w.spec.Kind != Session) {
			sel = nil
		}
		src, rows := rec, n
		if compact != nil && offs[ti] >= 0 {
			src = compact.NewSlice(int64(offs[ti]), int64(offs[ti]+len(sel)))
			rows, sel = len(x.sel), nil
		}
		var keys *columnar.KeyHashes
		if src == rec {
			keys = w.keys // hashed upstream: the windows' tables probe with them
		}
		// EMIT CHANGES emits the groups this update touches. With fewer
		// groups than rows, they are found from the groups' row counts
		// before and after (no per-row pass, already in id order).
		byCounts := w.spec.Emit == EmitChanges && x.a.NumGroups() < updatedRows(rows, sel)
		if byCounts {
			x.before = append(x.before[:0], x.a.RowCounts()...)
		}
		err := x.a.Update(columnar.Batch{Rec: src, Sel: sel, Keys: keys})
		if src != rec {
			src.Release()
		}
		if err != nil {
			return nil, fmt.Errorf("window: %w", err)
		}
		if w.spec.Emit != EmitChanges {
			continue
		}
		var ids []uint32
		if byCounts {
			ids = touchedByCounts(x.before, x.a.RowCounts())
		} else {
			ids = w.touchedByMarks(x, sel, rows)
		}
		r, err := x.a.EmitGroups(ids)
		if err != nil {
			releaseRecords(out)
			return nil, fmt.Errorf("window: %w", err)
		}
		out = append(out, w.decorate(r, x))
		x.sel = x.sel[:0]
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decorate inserts window_start and window_end after the keys of an
// aggregator's record (and counts the rows); it releases r.
func (w *TimeWindow) decorate(r arrow.Record, x *win) arrow.Record {
	w.stats.OutputRows += r.NumRows()
	if w.spec.Kind == None {
		return r
	}
	defer r.Release()
	n := int(r.NumRows())
	cols := make([]arrow.Array, 0, w.schema.NumFields())
	cols = append(cols, r.Columns()[:w.nkeys]...)
	s, e := w.constant(x.start, n), w.constant(x.end, n)
	defer s.Release()
	defer e.Release()
	cols = append(cols, s, e)
	cols = append(cols, r.Columns()[w.nkeys:]...)
	return columnar.MakeRecord(w.schema, cols, int64(n))
}

// constCol is a cached column of one value (TimeWindow.consts).
type constCol struct {
	v int64
	a arrow.Array // nil: empty slot
}

// constant returns a column of n rows of v (the caller releases it).
func (w *TimeWindow) constant(v int64, n int) arrow.Array {
	if w.spec.Emit != EmitChanges {
		return w.newConstant(v, n)
	}
	for _, c := range w.consts {
		if c.a != nil && c.v == v && c.a.Len() >= n {
			return array.NewSlice(c.a, 0, int64(n))
		}
	}
	a := w.newConstant(v, n)
	c := &w.consts[w.constNext]
	w.constNext = (w.constNext + 1) % len(w.consts)
	if c.a != nil {
		c.a.Release()
	}
	a.Retain()
	*c = constCol{v, a}
	return a
}

// releaseConsts drops the cached constant columns.
func (w *TimeWindow) releaseConsts() {
	for i := range w.consts {
		if w.consts[i].a != nil {
			w.consts[i].a.Release()
		}
		w.consts[i] = constCol{}
	}
}

func (w *TimeWindow) newConstant(v int64, n int) arrow.Array {
	buf := memory.NewResizableBuffer(w.mem)
	buf.Resize(n * 8)
	vals := arrow.Int64Traits.CastFromBytes(buf.Bytes())
	for i := range vals {
		vals[i] = v
	}
	d := array.NewData(w.timeType, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// AdvanceWatermark moves the watermark to wm (ignored when not ahead of the
// current one) and returns the windows it closes (EMIT FINAL).
func (w *TimeWindow) AdvanceWatermark(wm int64) ([]arrow.Record, error) {
	if wm > w.wm {
		w.wm = wm
	}
	return w.closeDue()
}

// Finish ends a bounded input: the watermark becomes +∞ (math.MaxInt64),
// every window closes, and with Kind None and EMIT FINAL the whole GROUP BY
// result is emitted.
func (w *TimeWindow) Finish() ([]arrow.Record, error) {
	defer w.releaseConsts()
	if w.spec.Kind == None {
		w.wm = math.MaxInt64
		if w.spec.Emit == EmitChanges || w.global == nil {
			return nil, nil
		}
		r, err := w.global.a.Emit()
		if err != nil {
			return nil, fmt.Errorf("window: %w", err)
		}
		w.freeAgg(w.global.a)
		w.global = nil
		w.stats.Windows++
		return []arrow.Record{w.decorate(r, nil)}, nil
	}
	return w.AdvanceWatermark(math.MaxInt64)
}

// closeDue closes the windows the watermark has passed: EMIT FINAL returns
// their rows as one record ordered by window_end, then the keys; EMIT
// CHANGES has emitted them already and only frees their state.
func (w *TimeWindow) closeDue() ([]arrow.Record, error) {
	var due []*win
	switch w.spec.Kind {
	case None:
		return nil, nil
	case Session:
		for kid, list := range w.sess {
			keep := list[:0]
			for _, s := range list {
				if w.closedAt(s.end, w.wm) {
					due = append(due, s)
				} else {
					keep = append(keep, s)
				}
			}
			clear(list[len(keep):])
			w.sess[kid] = keep
		}
		w.nsess -= len(due)
	default:
		i := 0
		for i < len(w.open) && w.closedAt(w.open[i].end, w.wm) {
			due = append(due, w.open[i])
			delete(w.wins, w.open[i].start)
			i++
		}
		w.open = slices.Delete(w.open, 0, i)
		w.last = nil
	}
	for _, x := range due {
		w.putSel(x.sel) // the selection buffer goes to the next window
		x.sel = nil
	}
	if w.merger != nil {
		// Partial mode: hand the closes to the merger, which returns the
		// firings every operator has now reached, merged.
		merged, err := w.merger.hand(w, due)
		if err != nil {
			return nil, err
		}
		due = merged
	}
	if len(due) == 0 {
		return nil, nil
	}
	w.stats.Windows += int64(len(due))
	var parts []arrow.Record
	var err error
	for _, x := range due {
		if w.spec.Emit == EmitFinal && err == nil {
			var r arrow.Record
			if r, err = x.a.Emit(); err == nil {
				parts = append(parts, w.decorate(r, x))
			}
		}
		w.freeAgg(x.a)
		x.a = nil
	}
	if err != nil {
		releaseRecords(parts)
		return nil, fmt.Errorf("window: %w", err)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	defer releaseRecords(parts)
	ends := make([]int64, len(due))
	for i, x := range due {
		ends[i] = x.end
	}
	keys := make([]int, w.nkeys)
	for k := range keys {
		keys[k] = k
	}
	out, err := orderedConcat(w.mem, w.schema, parts, ends, keys)
	if err != nil {
		return nil, err
	}
	return []arrow.Record{out}, nil
}

// Slide returns the distance between window starts (a tumbling window's
// size) in the time column's unit; 0 for sessions and global windows.
func (w *TimeWindow) Slide() int64 {
	if w.spec.Kind != Tumbling && w.spec.Kind != Sliding {
		return 0
	}
	return w.slide
}

// Partial puts the operator in partial mode, for two-phase windowed
// aggregation: the caller deals whole batches to several operators (same
// spec, each in partial mode with the same Merger and its own index part,
// all following one ExternalWatermark, every watermark step delivered to
// every operator). An operator hands each window it closes at a watermark
// step to the merger as a partial aggregate; once every operator has
// reached that step, the operator whose hand-over completed it merges the
// partials of that window and step (in operator order) and emits them as
// one window. Every operator closes a window at the same step, and a late
// firing (LateProcess re-opens a closed window) closes at the next step
// with the late rows that arrived since the previous one, wherever they
// went: together the operators emit the rows one operator fed every batch
// emits (floating-point sums up to summation order). Partials wait in the
// merger while some operator is behind. Only tumbling and sliding windows
// with EMIT FINAL have such a form, and the mode must be set before the
// first Push.
func (w *TimeWindow) Partial(m *Merger, part int) error {
	switch {
	case w.spec.Kind != Tumbling && w.spec.Kind != Sliding:
		return fmt.Errorf("window: %s windows have no partial form (only tumbling and sliding)", w.spec.Kind)
	case w.spec.Emit != EmitFinal:
		return errors.New("window: EMIT CHANGES has no partial form (a partial's change is not its group's row)")
	case !w.spec.ExternalWatermark:
		return errors.New("window: partial windows need an external watermark shared by every partial operator")
	case w.stats.Rows > 0:
		return errors.New("window: partial mode must be set before the first Push")
	case part < 0 || part >= len(m.wm):
		return fmt.Errorf("window: partial operator %d of a merger for %d", part, len(m.wm))
	}
	w.merger, w.part = m, part
	return nil
}

// Merger collects the partial windows of the operators in partial mode
// (TimeWindow.Partial) and tells each hand-over which windows every
// operator has closed. Operators on different goroutines share it: it
// locks once per watermark step of an operator, never per row.
type Merger struct {
	mu      sync.Mutex
	wm      []int64             // per operator: the watermark its hand-overs have reached
	pending map[firing]*partial // partials awaiting other operators
	// free holds the aggregators merged away: the operator that merges a
	// window frees the others' partials, so its pool would grow while
	// theirs run dry; the surplus comes here and goes to whoever needs it.
	free []*agg.Aggregator
}

// spareAggs bounds an operator's own pool in partial mode (the rest goes
// to the merger's free list).
const spareAggs = 4

// refill moves up to spareAggs free aggregators into pool.
func (m *Merger) refill(pool []*agg.Aggregator) []*agg.Aggregator {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := max(0, len(m.free)-spareAggs)
	pool = append(pool, m.free[k:]...)
	clear(m.free[k:])
	m.free = m.free[:k]
	return pool
}

// spill moves operator w's pool beyond spareAggs to the free list.
func (m *Merger) spill(w *TimeWindow) {
	if len(w.pool) <= spareAggs {
		return
	}
	m.mu.Lock()
	m.free = append(m.free, w.pool[spareAggs:]...)
	m.mu.Unlock()
	clear(w.pool[spareAggs:])
	w.pool = w.pool[:spareAggs]
}

// firing names one emission of a window: its start and the watermark step
// at which the operators close it (a late firing has a later step).
type firing struct{ start, wm int64 }

// partial is one firing's partial aggregates, by operator.
type partial struct {
	start, end, wm int64
	parts          []*agg.Aggregator // indexed by operator; nil: none yet
	late           bool              // a late firing (re-opened windows)
}

// NewMerger returns a merger for operators partial operators.
func NewMerger(operators int) *Merger {
	m := &Merger{wm: make([]int64, operators), pending: map[firing]*partial{}}
	for i := range m.wm {
		m.wm[i] = math.MinInt64
	}
	return m
}

// hand takes the windows operator w closed at its current watermark step
// and returns the firings every operator has now reached (ordered by
// step, then start), each with its partials merged into one aggregator
// that w now owns; the other partials go to w's pool.
func (m *Merger) hand(w *TimeWindow, closed []*win) ([]*win, error) {
	m.mu.Lock()
	m.wm[w.part] = w.wm
	for _, x := range closed {
		f := firing{x.start, w.wm}
		p := m.pending[f]
		if p == nil {
			p = &partial{start: x.start, end: x.end, wm: w.wm, parts: make([]*agg.Aggregator, len(m.wm))}
			m.pending[f] = p
		}
		p.parts[w.part] = x.a
		p.late = p.late || x.reopened
		x.a = nil
	}
	minWM := slices.Min(m.wm)
	var done []*partial
	for f, p := range m.pending {
		if p.wm <= minWM {
			done = append(done, p)
			delete(m.pending, f)
		}
	}
	m.mu.Unlock()
	// The finished firings belong to this operator now.
	slices.SortFunc(done, func(a, b *partial) int {
		if c := cmpInt(a.wm, b.wm); c != 0 {
			return c
		}
		return cmpInt(a.start, b.start)
	})
	out := make([]*win, 0, len(done))
	var err error
	for _, p := range done {
		var base *agg.Aggregator
		for _, a := range p.parts {
			switch {
			case a == nil:
			case base == nil:
				base = a
			default:
				if err == nil {
					if err = base.Merge(a); err != nil {
						err = fmt.Errorf("window: merging partial windows: %w", err)
					}
				}
				w.freeAgg(a)
			}
		}
		if p.late {
			w.stats.Reopened++
		}
		out = append(out, &win{start: p.start, end: p.end, a: base})
	}
	if err != nil {
		for _, x := range out {
			w.freeAgg(x.a)
		}
		m.spill(w)
		return nil, err
	}
	m.spill(w)
	return out, nil
}

// Release frees every open window's state without emitting it.
func (w *TimeWindow) Release() {
	w.releaseConsts()
	w.wins, w.open, w.sess, w.pool, w.global, w.touched, w.last = nil, nil, nil, nil, nil, nil, nil
	w.nsess = 0
}
