package bench

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// ColumnKind says which statistics a ColumnSummary carries.
type ColumnKind int

// Column kinds.
const (
	KindOther   ColumnKind = iota // only Count and Nulls
	KindInteger                   // int8…int64, uint8…uint32, timestamps: MinInt, MaxInt, Mean
	KindFloat                     // float32, float64: Min, Max, Mean, NaNs
	KindString                    // utf8, large_utf8: MinString, MaxString, Distinct, Top
)

// MaxDistinctTracked bounds the distinct values Summarize tracks per string
// column; beyond it Distinct is a lower bound and DistinctCapped is set.
const MaxDistinctTracked = 1 << 20

// ColumnSummary holds one column's statistics. Min/Max/Mean ignore nulls
// (and NaNs for floats); Mean is 0 when there are no values.
type ColumnSummary struct {
	Name  string
	Type  arrow.DataType
	Kind  ColumnKind
	Count int64 // non-null values
	Nulls int64

	MinInt, MaxInt int64   // KindInteger
	Min, Max       float64 // KindFloat (and KindInteger, as float64)
	Mean           float64 // KindInteger, KindFloat
	NaNs           int64   // KindFloat

	MinString, MaxString string // KindString, byte-wise order
	Distinct             int64  // KindString
	DistinctCapped       bool   // more than MaxDistinctTracked distinct values
	Top                  string // most frequent value (ties: the smallest)
	TopCount             int64
	TopShare             float64 // TopCount / Count
}

// EventTimeSummary describes the arrival order of the event-time column (the
// int64 or timestamp field whose metadata has EventTimeMetadataKey = "true").
// A row is late when its time is below the largest time of the rows before
// it; its lateness is that difference, in the column's unit. (For
// market_data a row delayed by d ms after an on-time row is d−1 ms behind
// it, so a 1 ms delay is not out of order at all.)
type EventTimeSummary struct {
	Column       string
	LateRows     int64
	LateFraction float64 // LateRows / non-null rows
	MaxLateness  int64
}

// Summary describes a record stream: row and batch counts, per-column
// statistics in schema order, and the event-time column's lateness if the
// schema marks one.
type Summary struct {
	Rows      int64
	Batches   int
	Columns   []ColumnSummary
	EventTime *EventTimeSummary
}

// Summarize reads rdr to the end and computes its Summary. It does not
// Release rdr.
func Summarize(rdr array.RecordReader) (Summary, error) {
	schema := rdr.Schema()
	acc := make([]columnAcc, schema.NumFields())
	eventCol := -1
	for i, f := range schema.Fields() {
		acc[i].ColumnSummary = ColumnSummary{Name: f.Name, Type: f.Type, Kind: kindOf(f.Type)}
		if v, ok := f.Metadata.GetValue(EventTimeMetadataKey); ok && v == "true" && eventCol < 0 &&
			(f.Type.ID() == arrow.INT64 || f.Type.ID() == arrow.TIMESTAMP) {
			eventCol = i
		}
	}
	var ev eventAcc
	var s Summary
	for rdr.Next() {
		rec := rdr.Record()
		if int(rec.NumCols()) != len(acc) {
			return Summary{}, fmt.Errorf("summarize: batch %d has %d columns, the schema %d", s.Batches, rec.NumCols(), len(acc))
		}
		for i := range acc {
			if err := acc[i].add(rec.Column(i)); err != nil {
				return Summary{}, fmt.Errorf("summarize: batch %d: %w", s.Batches, err)
			}
		}
		if eventCol >= 0 {
			ev.add(rec.Column(eventCol))
		}
		s.Rows += rec.NumRows()
		s.Batches++
	}
	if err := rdr.Err(); err != nil {
		return Summary{}, fmt.Errorf("summarize: reading batch %d: %w", s.Batches, err)
	}
	s.Columns = make([]ColumnSummary, len(acc))
	for i := range acc {
		s.Columns[i] = acc[i].finish()
	}
	if eventCol >= 0 {
		e := &EventTimeSummary{Column: schema.Field(eventCol).Name, LateRows: ev.late, MaxLateness: ev.maxLateness}
		if n := s.Columns[eventCol].Count; n > 0 {
			e.LateFraction = float64(ev.late) / float64(n)
		}
		s.EventTime = e
	}
	return s, nil
}

func kindOf(t arrow.DataType) ColumnKind {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.TIMESTAMP:
		return KindInteger
	case arrow.FLOAT32, arrow.FLOAT64:
		return KindFloat
	case arrow.STRING, arrow.LARGE_STRING:
		return KindString
	}
	return KindOther
}

// columnAcc accumulates one column.
type columnAcc struct {
	ColumnSummary
	seen          int64   // non-null (non-NaN) values accumulated so far
	sumLo, sumHi  uint64  // two's-complement 128-bit sum of integers
	fsum, fcomp   float64 // Neumaier-compensated sum of floats
	counts        map[string]int64
	haveMinString bool
}

func (a *columnAcc) add(col arrow.Array) error {
	if !arrow.TypeEqual(col.DataType(), a.Type) {
		return fmt.Errorf("column %s has type %s, the schema says %s", a.Name, col.DataType(), a.Type)
	}
	a.Nulls += int64(col.NullN())
	a.Count += int64(col.Len() - col.NullN())
	switch c := col.(type) {
	case *array.Int64:
		addInts(a, c, c.Value)
	case *array.Int32:
		addInts(a, c, func(i int) int64 { return int64(c.Value(i)) })
	case *array.Int16:
		addInts(a, c, func(i int) int64 { return int64(c.Value(i)) })
	case *array.Int8:
		addInts(a, c, func(i int) int64 { return int64(c.Value(i)) })
	case *array.Uint32:
		addInts(a, c, func(i int) int64 { return int64(c.Value(i)) })
	case *array.Uint16:
		addInts(a, c, func(i int) int64 { return int64(c.Value(i)) })
	case *array.Uint8:
		addInts(a, c, func(i int) int64 { return int64(c.Value(i)) })
	case *array.Timestamp:
		addInts(a, c, func(i int) int64 { return int64(c.Value(i)) })
	case *array.Float64:
		addFloats(a, c, c.Value)
	case *array.Float32:
		addFloats(a, c, func(i int) float64 { return float64(c.Value(i)) })
	case *array.String:
		addStrings(a, c, c.Value)
	case *array.LargeString:
		addStrings(a, c, c.Value)
	}
	return nil
}

func addInts(a *columnAcc, col arrow.Array, value func(int) int64) {
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			continue
		}
		v := value(i)
		if a.seen == 0 || v < a.MinInt {
			a.MinInt = v
		}
		if a.seen == 0 || v > a.MaxInt {
			a.MaxInt = v
		}
		a.seen++
		var carry uint64
		a.sumLo, carry = bits.Add64(a.sumLo, uint64(v), 0)
		a.sumHi += uint64(v>>63) + carry
	}
}

func addFloats(a *columnAcc, col arrow.Array, value func(int) float64) {
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			continue
		}
		v := value(i)
		if math.IsNaN(v) {
			a.NaNs++
			continue
		}
		if a.seen == 0 || v < a.Min {
			a.Min = v
		}
		if a.seen == 0 || v > a.Max {
			a.Max = v
		}
		a.seen++
		t := a.fsum + v
		if math.Abs(a.fsum) >= math.Abs(v) {
			a.fcomp += (a.fsum - t) + v
		} else {
			a.fcomp += (v - t) + a.fsum
		}
		a.fsum = t
	}
}

func addStrings(a *columnAcc, col arrow.Array, value func(int) string) {
	if a.counts == nil {
		a.counts = make(map[string]int64)
	}
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			continue
		}
		v := value(i)
		if !a.haveMinString || v < a.MinString {
			a.MinString = v
		}
		if !a.haveMinString || v > a.MaxString {
			a.MaxString = v
		}
		a.haveMinString = true
		if n, ok := a.counts[v]; ok {
			a.counts[v] = n + 1
		} else if len(a.counts) < MaxDistinctTracked {
			a.counts[v] = 1
		} else {
			a.DistinctCapped = true
		}
	}
}

func (a *columnAcc) finish() ColumnSummary {
	s := a.ColumnSummary
	switch s.Kind {
	case KindInteger:
		if s.Count > 0 {
			sum := float64(int64(a.sumLo))
			if a.sumHi != uint64(int64(a.sumLo)>>63) { // beyond int64: hi·2^64 + lo
				sum = float64(float64(int64(a.sumHi))*(1<<64)) + float64(a.sumLo)
			}
			s.Mean = sum / float64(s.Count)
			s.Min, s.Max = float64(s.MinInt), float64(s.MaxInt)
		}
	case KindFloat:
		if n := s.Count - s.NaNs; n > 0 {
			s.Mean = (a.fsum + a.fcomp) / float64(n)
		}
	case KindString:
		s.Distinct = int64(len(a.counts))
		for v, n := range a.counts {
			if n > s.TopCount || n == s.TopCount && v < s.Top {
				s.Top, s.TopCount = v, n
			}
		}
		if s.Count > 0 {
			s.TopShare = float64(s.TopCount) / float64(s.Count)
		}
	}
	return s
}

// eventAcc tracks lateness against the running maximum event time.
type eventAcc struct {
	seen        bool
	maxSoFar    int64
	late        int64
	maxLateness int64
}

func (e *eventAcc) add(col arrow.Array) {
	var value func(int) int64
	switch c := col.(type) {
	case *array.Int64:
		value = c.Value
	case *array.Timestamp:
		value = func(i int) int64 { return int64(c.Value(i)) }
	default:
		return
	}
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			continue
		}
		t := value(i)
		switch {
		case !e.seen || t > e.maxSoFar:
			e.seen, e.maxSoFar = true, t
		case t < e.maxSoFar:
			e.late++
			e.maxLateness = max(e.maxLateness, e.maxSoFar-t)
		}
	}
}

// Format prints s as an aligned text table, one line per column, followed by
// the event-time line when there is one.
func (s Summary) Format(w io.Writer) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "column\ttype\tcount\tnulls\tmin\tmax\tmean\tdistinct\ttop value (share)\n")
	for _, c := range s.Columns {
		var lo, hi, mean, distinct, top string
		switch c.Kind {
		case KindInteger:
			if c.Count > 0 {
				lo, hi = strconv.FormatInt(c.MinInt, 10), strconv.FormatInt(c.MaxInt, 10)
				mean = strconv.FormatFloat(c.Mean, 'f', 2, 64)
			}
		case KindFloat:
			if c.Count-c.NaNs > 0 {
				lo, hi = strconv.FormatFloat(c.Min, 'g', -1, 64), strconv.FormatFloat(c.Max, 'g', -1, 64)
				mean = strconv.FormatFloat(c.Mean, 'f', 4, 64)
			}
		case KindString:
			if c.Count > 0 {
				lo, hi = c.MinString, c.MaxString
				distinct = strconv.FormatInt(c.Distinct, 10)
				if c.DistinctCapped {
					distinct = ">" + distinct
				}
				top = fmt.Sprintf("%s (%.2f %%)", c.Top, 100*c.TopShare)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, c.Count, c.Nulls, lo, hi, mean, distinct, top)
	}
	_ = tw.Flush() // writes to a bytes.Buffer cannot fail
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return fmt.Errorf("summary: writing table: %w", err)
		}
	}
	if _, err := fmt.Fprintf(w, "%d rows in %d batches\n", s.Rows, s.Batches); err != nil {
		return fmt.Errorf("summary: writing: %w", err)
	}
	if e := s.EventTime; e != nil {
		if _, err := fmt.Fprintf(w, "event time %s: %d late rows (%.3f %%) behind the running maximum, max lateness %d\n",
			e.Column, e.LateRows, 100*e.LateFraction, e.MaxLateness); err != nil {
			return fmt.Errorf("summary: writing: %w", err)
		}
	}
	return nil
}
