package window

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
)

// Func is a ROWS analytic window function.
type Func int

// The ROWS window functions. The aggregates (Sum … Max) ignore NULL inputs
// like their GROUP BY counterparts and are NULL over a frame without a
// non-NULL value (CountStar and Count: 0).
const (
	Sum        Func = iota // SUM(x) over the frame: int64 for int64 x, float64 for float64 x
	Avg                    // AVG(x): float64
	Count                  // COUNT(x): non-NULL values in the frame
	CountStar              // COUNT(*): rows in the frame
	Min                    // MIN(x): x's type; NaN above every number
	Max                    // MAX(x)
	Lag                    // LAG(x, offset, default): x of the row offset rows before in the partition
	Lead                   // LEAD(x, offset, default): offset rows after (bounded input only)
	RowNumber              // ROW_NUMBER(): 1, 2, … per partition
	Rank                   // RANK(): 1 + rows before the current row's ORDER BY peers
	DenseRank              // DENSE_RANK(): 1 + distinct ORDER BY keys before the current row's
	FirstValue             // FIRST_VALUE(x): x of the frame's first row
	LastValue              // LAST_VALUE(x): x of the frame's last row (the current row)
)

var funcNames = [...]string{"SUM", "AVG", "COUNT", "COUNT(*)", "MIN", "MAX", "LAG", "LEAD", "ROW_NUMBER", "RANK", "DENSE_RANK", "FIRST_VALUE", "LAST_VALUE"}

// String returns the SQL name of the function.
func (f Func) String() string {
	if f >= 0 && int(f) < len(funcNames) {
		return funcNames[f]
	}
	return fmt.Sprintf("Func(%d)", int(f))
}

// ParseFunc parses a SQL window function name (case-insensitive; "COUNT(*)"
// or "COUNT_STAR" for CountStar).
func ParseFunc(name string) (Func, error) {
	u := strings.ToUpper(strings.TrimSpace(name))
	if u == "COUNT_STAR" {
		return CountStar, nil
	}
	for i, n := range funcNames {
		if n == u {
			return Func(i), nil
		}
	}
	return 0, fmt.Errorf("window: unknown ROWS window function %q", name)
}

// UnboundedPreceding is the Call.Preceding of a frame starting at the
// partition's first row.
const UnboundedPreceding = -1

// Call is one window function in a ROWS window.
type Call struct {
	Func Func
	Arg  int // input column (unused by CountStar, RowNumber, Rank, DenseRank)
	// Preceding is n of ROWS BETWEEN n PRECEDING AND CURRENT ROW, or
	// UnboundedPreceding. Velostream's ROWS WINDOW BUFFER n ROWS is n-1.
	// Used by the aggregates and FirstValue.
	Preceding int64
	// Offset of Lag / Lead (0 means 1).
	Offset int64
	// Default of Lag / Lead when the row does not exist: nil (NULL), or a Go
	// int64, float64, string or bool convertible to the argument's type.
	Default any
	Name    string // output column name (default e.g. "avg_price")
}

// RowsSpec describes a ROWS analytic window over an input schema.
type RowsSpec struct {
	PartitionBy []int // partition key columns (none: one partition)
	// OrderBy is the ORDER BY column: int64 or timestamp (the event time);
	// -1 means arrival order with every row a peer of every other.
	OrderBy   int
	OrderDesc bool // ORDER BY … DESC (bounded input only)
	Calls     []Call
	// Streaming selects the unbounded mode: rows are buffered until the
	// watermark (max order key − MaxOutOfOrdernessMs) passes them, then
	// processed and emitted in order-key order.
	Streaming           bool
	MaxOutOfOrdernessMs int64 // streaming: as Spec.MaxOutOfOrdernessMs (0: 5 s; NoOutOfOrderness)
	Late                LatePolicy
	Logger              *slog.Logger
}

// Rows is the ROWS analytic window operator. Its output is the input
// columns followed by one column per Call.
//
// Bounded input (Streaming false): Push buffers batches (retained) and
// Finish processes every partition in ORDER BY order — a stable sort, so
// ORDER BY ties keep arrival order, and the ranking functions give ties the
// same rank — and returns one record per pushed batch, its rows in the
// pushed order with the computed columns attached (input columns are not
// copied).
//
// Unbounded input (Streaming true): Push returns the rows the advanced
// watermark released, ordered by (order key, arrival); AdvanceWatermark and
// Finish release more. A row whose order key is at or below the watermark
// of the last release is late: dropped (counted) under LateDrop, processed
// at the next release after its partition's already-processed rows under
// LateWarn (logged) and LateProcess. Lead is not available in this mode (it
// would wait for rows that may never come); NULL order keys are counted in
// Stats.NullTime and skipped.
//
// Moving sums of floats are plain running sums (add the entering value,
// subtract the leaving one) recomputed exactly (Neumaier-compensated) from
// the partition's frame every frame-length rows, so at most 2·frame
// roundings accumulate: the result is within 2·frame·ε of the sum of |x|
// over the last two frames of a naive recomputation (tested at 1e-9 of
// that magnitude, with values spanning 1e-3…1e12). Unbounded float sums
// are Neumaier-compensated throughout. Moving int64 sums are exact (two's
// complement: intermediate wrap-around cancels; a true frame sum beyond
// int64 wraps).
//
// A bounded Rows whose calls are all frame aggregates (SUM, AVG, COUNT,
// COUNT(*), MIN, MAX — S1 of BENCH.md) runs the frame path (see
// rows_frames.go): each partition's rows as one contiguous column slice,
// MIN/MAX by van Herk/Gil-Werman block extremes (O(1) per row,
// branch-free), NaN and ±Inf counted apart from the running sums. Other
// calls, and streaming input, run the per-row path: rows processed
// partition by partition (counting sort by partition id, then an insertion
// sort by order key that is linear on nearly ordered event times) and the
// results permuted back to output order; MIN/MAX use a monotonic deque per
// partition; all per-partition rings are struct-of-arrays, sized by the
// frame, indexed by partition id.
type Rows struct {
	mem    memory.Allocator
	spec   RowsSpec
	input  *arrow.Schema
	schema *arrow.Schema
	keys   *agg.KeyTable
	kcols  []arrow.Array
	ooo    int64
	logger *slog.Logger

	frames []*frameSpec // distinct (arg, preceding, type) aggregate frames
	calls  []callPlan

	// per partition
	nparts int
	seq    []int64 // rows processed per partition
	lastK  []int64
	rank   []int64
	dense  []int64
	frm    []any      // *frameState[int64] | *frameState[float64], parallel to frames
	rings  [][]rowRef // per call: Lag/Lead/FirstValue ring per partition (P*ringCap)
	firsts [][]rowRef // per call: FirstValue UNBOUNDED first row per partition

	// buffered input
	recs     []arrow.Record
	sels     [][]int32 // streaming: pending rows per buffered record (nil: all)
	lateMark [][]bool  // streaming: rows to process regardless of the watermark
	ids      []int32   // streaming: record id of each buffered record
	nextID   int32
	held     map[int32]*heldRec // streaming: records referenced by rings or pending
	wm       int64
	relWM    int64
	stats    Stats
	lastLog  time.Time
	logLate  int64
	finished bool
	perRow   bool // bounded: skip the frame path (tests and benchmarks compare the two)
}

type callPlan struct {
	c       Call
	frame   int // index into frames, or -1
	typ     arrow.DataType
	defArr  arrow.Array
	ringCap int // Lag/Lead: offset; FirstValue: preceding+1
}

type frameSpec struct {
	arg      int
	n        int // frame length (preceding+1); 0 unbounded
	float    bool
	min, max bool
}

// NewRows returns the ROWS window operator for spec over batches of input.
func NewRows(mem memory.Allocator, input *arrow.Schema, spec RowsSpec) (*Rows, error) {
	r := &Rows{mem: mem, spec: spec, input: input, wm: math.MinInt64, relWM: math.MinInt64, logger: spec.Logger}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if len(spec.Calls) == 0 {
		return nil, fmt.Errorf("window: a ROWS window needs at least one function")
	}
	var types []arrow.DataType
	for _, c := range spec.PartitionBy {
		if c < 0 || c >= input.NumFields() {
			return nil, fmt.Errorf("window: PARTITION BY column %d out of range (input has %d columns)", c, input.NumFields())
		}
		types = append(types, input.Field(c).Type)
	}
	if len(types) > 0 {
		kt, err := agg.NewKeyTable(types)
		if err != nil {
			return nil, fmt.Errorf("window: PARTITION BY: %w", err)
		}
		r.keys = kt
	}
	if spec.OrderBy >= input.NumFields() || spec.OrderBy < -1 {
		return nil, fmt.Errorf("window: ORDER BY column %d out of range (input has %d columns)", spec.OrderBy, input.NumFields())
	}
	if spec.OrderBy >= 0 {
		switch t := input.Field(spec.OrderBy).Type; t.ID() {
		case arrow.INT64, arrow.TIMESTAMP:
		default:
			return nil, fmt.Errorf("window: ORDER BY column %q has type %s, want int64 or timestamp", input.Field(spec.OrderBy).Name, t)
		}
	}
	if spec.Streaming {
		if spec.OrderBy < 0 || spec.OrderDesc {
			return nil, fmt.Errorf("window: a streaming ROWS window needs ORDER BY an event-time column, ascending")
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
		if t, ok := input.Field(spec.OrderBy).Type.(*arrow.TimestampType); ok {
			switch t.Unit {
			case arrow.Second:
				ooo /= 1000
			case arrow.Microsecond:
				ooo *= 1000
			case arrow.Nanosecond:
				ooo *= 1_000_000
			}
		}
		r.ooo = ooo
	}
	fields := slices.Clone(input.Fields())
	for _, c := range spec.Calls {
		p := callPlan{c: c, frame: -1}
		var argT arrow.DataType
		argName := "star"
		if c.Func != CountStar && c.Func != RowNumber && c.Func != Rank && c.Func != DenseRank {
			if c.Arg < 0 || c.Arg >= input.NumFields() {
				return nil, fmt.Errorf("window: %s: column %d out of range (input has %d columns)", c.Func, c.Arg, input.NumFields())
			}
			argT, argName = input.Field(c.Arg).Type, input.Field(c.Arg).Name
		}
		if c.Preceding < UnboundedPreceding {
			return nil, fmt.Errorf("window: %s(%s): frame of %d PRECEDING", c.Func, argName, c.Preceding)
		}
		if c.Preceding > 1<<24 {
			return nil, fmt.Errorf("window: %s(%s): frame of %d PRECEDING is larger than 16M rows", c.Func, argName, c.Preceding)
		}
		switch c.Func {
		case Sum, Avg, Count, CountStar, Min, Max:
			fl := false
			if c.Func != CountStar && c.Func != Count {
				switch argT.ID() {
				case arrow.INT64:
				case arrow.FLOAT64:
					fl = true
				default:
					return nil, fmt.Errorf("window: %s(%s): argument type %s, want int64 or float64", c.Func, argName, argT)
				}
			} else if c.Func == Count && argT.ID() == arrow.FLOAT64 {
				fl = true
			}
			n := 0
			if c.Preceding != UnboundedPreceding {
				n = int(c.Preceding) + 1
			}
			arg := c.Arg
			if c.Func == CountStar {
				arg = -1
			}
			if c.Func == Count && argT.ID() != arrow.INT64 && argT.ID() != arrow.FLOAT64 {
				arg = -2 - c.Arg // validity only
			}
			fi := -1
			for i, f := range r.frames {
				if f.arg == arg && f.n == n && f.float == fl {
					fi = i
				}
			}
			if fi < 0 {
				fi = len(r.frames)
				r.frames = append(r.frames, &frameSpec{arg: arg, n: n, float: fl})
			}
			p.frame = fi
			r.frames[fi].min = r.frames[fi].min || c.Func == Min
			r.frames[fi].max = r.frames[fi].max || c.Func == Max
			switch c.Func {
			case Sum, Min, Max:
				p.typ = argT
			case Avg:
				p.typ = arrow.PrimitiveTypes.Float64
			default:
				p.typ = arrow.PrimitiveTypes.Int64
			}
		case RowNumber, Rank, DenseRank:
			p.typ = arrow.PrimitiveTypes.Int64
		case Lag, Lead:
			if c.Func == Lead && spec.Streaming {
				return nil, fmt.Errorf("window: LEAD(%s) needs the following rows; not available on a streaming input", argName)
			}
			off := c.Offset
			if off == 0 {
				off = 1
			}
			if off < 0 || off > 1<<24 {
				return nil, fmt.Errorf("window: %s(%s): offset %d out of range", c.Func, argName, off)
			}
			p.c.Offset, p.ringCap, p.typ = off, int(off), argT
			if c.Default != nil {
				d, err := scalarArray(mem, argT, c.Default)
				if err != nil {
					return nil, fmt.Errorf("window: %s(%s) default: %w", c.Func, argName, err)
				}
				p.defArr = d
			}
		case FirstValue, LastValue:
			p.typ = argT
			if c.Func == FirstValue && c.Preceding != UnboundedPreceding {
				p.ringCap = int(c.Preceding) + 1
			}
		default:
			return nil, fmt.Errorf("window: unknown window function %d", c.Func)
		}
		if c.Func >= Lag && c.Func != RowNumber && c.Func != Rank && c.Func != DenseRank {
			if _, err := gatherable(argT); err != nil {
				r.Release()
				return nil, fmt.Errorf("window: %s(%s): %w", c.Func, argName, err)
			}
		}
		name := c.Name
		if name == "" {
			name = strings.ToLower(strings.TrimSuffix(c.Func.String(), "(*)"))
			if argName != "star" || c.Func == CountStar {
				name += "_" + argName
			}
		}
		fields = append(fields, arrow.Field{Name: name, Type: p.typ, Nullable: true})
		r.calls = append(r.calls, p)
	}
	md := input.Metadata()
	r.schema = arrow.NewSchema(fields, &md)
	return r, nil
}

func gatherable(dt arrow.DataType) (bool, error) {
	switch dt.ID() {
	case arrow.BOOL, arrow.STRING, arrow.BINARY:
		return true, nil
	}
	if fw, ok := dt.(arrow.FixedWidthDataType); ok && fw.BitWidth()%8 == 0 {
		return true, nil
	}
	return false, fmt.Errorf("argument type %s is not supported", dt)
}

// scalarArray builds a one-row array of type dt holding v.
func scalarArray(mem memory.Allocator, dt arrow.DataType, v any) (arrow.Array, error) {
	bad := func() error { return fmt.Errorf("%v (%T) does not convert to %s", v, v, dt) }
	switch dt.ID() {
	case arrow.INT64:
		switch x := v.(type) {
		case int64:
			return columnar.BuildInt64(mem, []int64{x}, nil), nil
		case int:
			return columnar.BuildInt64(mem, []int64{int64(x)}, nil), nil
		case float64:
			if x != math.Trunc(x) {
				return nil, bad()
			}
			return columnar.BuildInt64(mem, []int64{int64(x)}, nil), nil
		}
	case arrow.FLOAT64:
		switch x := v.(type) {
		case float64:
			return columnar.BuildFloat64(mem, []float64{x}, nil), nil
		case int64:
			return columnar.BuildFloat64(mem, []float64{float64(x)}, nil), nil
		case int:
			return columnar.BuildFloat64(mem, []float64{float64(x)}, nil), nil
		}
	case arrow.STRING:
		if x, ok := v.(string); ok {
			return columnar.BuildString(mem, []string{x}, nil), nil
		}
	case arrow.BOOL:
		if x, ok := v.(bool); ok {
			return columnar.BuildBool(mem, []bool{x}, nil), nil
		}
	case arrow.TIMESTAMP:
		if x, ok := v.(int64); ok {
			return columnar.BuildTimestamp(mem, dt.(*arrow.TimestampType).Unit, []int64{x}, nil), nil
		}
	}
	return nil, bad()
}

// Schema returns the output schema: the input columns, then one column per
// Call.
func (r *Rows) Schema() *arrow.Schema { return r.schema }

// Stats returns the counters (Rows, NullTime, LateRows, LateDropped,
// LateProcessed, OutputRows, Watermark).
func (r *Rows) Stats() Stats {
	s := r.stats
	s.Watermark = r.wm
	s.Open = r.nparts
	return s
}

// Release frees buffered batches and defaults.
func (r *Rows) Release() {
	for _, rec := range r.recs {
		rec.Release()
	}
	r.recs, r.sels, r.lateMark = nil, nil, nil
	for _, h := range r.held {
		h.rec.Release()
	}
	r.held, r.ids = nil, nil
	for i := range r.calls {
		if r.calls[i].defArr != nil {
			r.calls[i].defArr.Release()
			r.calls[i].defArr = nil
		}
	}
}

// Push takes one batch. Bounded: it is buffered (retained) and nothing is
// returned until Finish. Streaming: the rows the advanced watermark
// releases are returned.
func (r *Rows) Push(b columnar.Batch) ([]arrow.Record, error) {
	if r.finished {
		return nil, fmt.Errorf("window: Push after Finish")
	}
	rec := b.Rec
	if !rec.Schema().Equal(r.input) {
		if int(rec.NumCols()) != r.input.NumFields() {
			return nil, fmt.Errorf("window: batch has %d columns, input schema has %d", rec.NumCols(), r.input.NumFields())
		}
		for i := 0; i < int(rec.NumCols()); i++ {
			if !arrow.TypeEqual(rec.Column(i).DataType(), r.input.Field(i).Type) {
				return nil, fmt.Errorf("window: column %q: batch has type %s, input schema has %s", r.input.Field(i).Name, rec.Column(i).DataType(), r.input.Field(i).Type)
			}
		}
	}
	n := b.Len()
	r.stats.Rows += int64(n)
	if n == 0 {
		return nil, nil
	}
	if !r.spec.Streaming {
		if b.Sel != nil {
			g, err := gatherRecord(r.mem, rec, b.Sel)
			if err != nil {
				return nil, err
			}
			r.recs = append(r.recs, g)
		} else {
			rec.Retain()
			r.recs = append(r.recs, rec)
		}
		return nil, nil
	}
	// Streaming: judge lateness row by row, advance the watermark, buffer.
	ocol := rec.Column(r.spec.OrderBy)
	keys := arrow.Int64Traits.CastFromBytes(ocol.Data().Buffers()[1].Bytes())[ocol.Data().Offset():]
	sel := make([]int32, 0, n)
	var late []bool
	for i := 0; i < n; i++ {
		row := i
		if b.Sel != nil {
			row = int(b.Sel[i])
		}
		if ocol.IsNull(row) {
			r.stats.NullTime++
			continue
		}
		k := keys[row]
		isLate := k <= r.relWM
		if isLate {
			r.stats.LateRows++
			if r.spec.Late == LateWarn {
				r.logLate++
				if now := time.Now(); now.Sub(r.lastLog) >= time.Second {
					r.logger.Warn("window: late rows in ROWS window", "rows", r.logLate, "late_total", r.stats.LateRows, "watermark", r.relWM)
					r.lastLog, r.logLate = now, 0
				}
			}
			if r.spec.Late == LateDrop {
				r.stats.LateDropped++
				continue
			}
			r.stats.LateProcessed++
			if late == nil {
				late = make([]bool, rec.NumRows())
			}
			late[row] = true
		}
		sel = append(sel, int32(row))
		if w := satAdd(k, -r.ooo); w > r.wm {
			r.wm = w
		}
	}
	if len(sel) > 0 {
		rec.Retain()
		r.recs = append(r.recs, rec)
		r.sels = append(r.sels, sel)
		r.lateMark = append(r.lateMark, late)
	}
	return r.release(r.wm)
}

// AdvanceWatermark (streaming) moves the watermark to wm if ahead and
// returns the rows it releases.
func (r *Rows) AdvanceWatermark(wm int64) ([]arrow.Record, error) {
	if !r.spec.Streaming {
		return nil, nil
	}
	if wm > r.wm {
		r.wm = wm
	}
	return r.release(r.wm)
}

// Finish ends the input: bounded, it processes everything and returns one
// record per pushed batch; streaming, it releases every buffered row
// (watermark +∞).
func (r *Rows) Finish() ([]arrow.Record, error) {
	if r.finished {
		return nil, nil
	}
	r.finished = true
	if r.spec.Streaming {
		r.wm = math.MaxInt64
		return r.release(math.MaxInt64)
	}
	defer func() {
		for _, rec := range r.recs {
			rec.Release()
		}
		r.recs = nil
	}()
	return r.processBounded()
}
