package bench

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

var summarySchema = arrow.NewSchema([]arrow.Field{
	{Name: "t", Type: arrow.PrimitiveTypes.Int64, Nullable: true,
		Metadata: arrow.NewMetadata([]string{EventTimeMetadataKey}, []string{"true"})},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

// summaryBatch builds one record of summarySchema; nil pointers are nulls.
type summaryRow struct {
	t *int64
	s *string
	x *float64
	n *int32
	b *bool
}

func ptr[T any](v T) *T { return &v }

func buildSummaryRecord(mem memory.Allocator, rows []summaryRow) arrow.Record {
	b := array.NewRecordBuilder(mem, summarySchema)
	defer b.Release()
	for _, r := range rows {
		appendOrNull(b.Field(0).(*array.Int64Builder), r.t)
		appendOrNull(b.Field(1).(*array.StringBuilder), r.s)
		appendOrNull(b.Field(2).(*array.Float64Builder), r.x)
		appendOrNull(b.Field(3).(*array.Int32Builder), r.n)
		appendOrNull(b.Field(4).(*array.BooleanBuilder), r.b)
	}
	return b.NewRecord()
}

func appendOrNull[T any](b interface {
	Append(T)
	AppendNull()
}, v *T) {
	if v == nil {
		b.AppendNull()
	} else {
		b.Append(*v)
	}
}

// TestSummarizeHandComputed checks every statistic against values worked
// out by hand for two small batches (in the comments).
func TestSummarizeHandComputed(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r1 := buildSummaryRecord(mem, []summaryRow{
		{ptr[int64](10), ptr("b"), ptr(1.5), ptr[int32](-3), ptr(true)},
		{ptr[int64](12), ptr("a"), ptr(math.NaN()), nil, ptr(false)},
		{ptr[int64](11), nil, ptr(-2.0), ptr[int32](7), nil},
		{nil, ptr("b"), nil, ptr[int32](0), ptr(true)},
	})
	defer r1.Release()
	r2 := buildSummaryRecord(mem, []summaryRow{
		{ptr[int64](15), ptr("a"), ptr(4.0), ptr[int32](-10), nil},
		{ptr[int64](9), ptr("c"), ptr(0.5), ptr[int32](5), nil},
		{ptr[int64](15), ptr("a"), nil, nil, ptr(true)},
	})
	defer r2.Release()
	rdr, err := array.NewRecordReader(summarySchema, []arrow.Record{r1, r2})
	require.NoError(t, err)
	defer rdr.Release()

	s, err := Summarize(rdr)
	require.NoError(t, err)
	require.Equal(t, int64(7), s.Rows)
	require.Equal(t, 2, s.Batches)
	require.Len(t, s.Columns, 5)

	// t: 10 12 11 · 15 9 15 → min 9, max 15, mean 72/6 = 12.
	c := s.Columns[0]
	require.Equal(t, KindInteger, c.Kind)
	require.Equal(t, [2]int64{6, 1}, [2]int64{c.Count, c.Nulls})
	require.Equal(t, [2]int64{9, 15}, [2]int64{c.MinInt, c.MaxInt})
	require.Equal(t, 12.0, c.Mean)
	// Running max 10, 12; 11 is 1 behind; 15; 9 is 6 behind; 15 ties, on time.
	require.Equal(t, &EventTimeSummary{Column: "t", LateRows: 2, LateFraction: 2.0 / 6, MaxLateness: 6}, s.EventTime)

	// s: b a · b a c a → a×3, b×2, c×1.
	c = s.Columns[1]
	require.Equal(t, KindString, c.Kind)
	require.Equal(t, [2]int64{6, 1}, [2]int64{c.Count, c.Nulls})
	require.Equal(t, [2]string{"a", "c"}, [2]string{c.MinString, c.MaxString})
	require.Equal(t, int64(3), c.Distinct)
	require.False(t, c.DistinctCapped)
	require.Equal(t, "a", c.Top)
	require.Equal(t, int64(3), c.TopCount)
	require.Equal(t, 0.5, c.TopShare)

	// x: 1.5 NaN -2 · 4 0.5 → NaN counted apart, mean (1.5-2+4+0.5)/4 = 1.
	c = s.Columns[2]
	require.Equal(t, KindFloat, c.Kind)
	require.Equal(t, [3]int64{5, 2, 1}, [3]int64{c.Count, c.Nulls, c.NaNs})
	require.Equal(t, [3]float64{-2, 4, 1}, [3]float64{c.Min, c.Max, c.Mean})

	// n (int32): -3 7 0 · -10 5 → mean -1/5.
	c = s.Columns[3]
	require.Equal(t, KindInteger, c.Kind)
	require.Equal(t, [2]int64{5, 2}, [2]int64{c.Count, c.Nulls})
	require.Equal(t, [2]int64{-10, 7}, [2]int64{c.MinInt, c.MaxInt})
	require.InDelta(t, -0.2, c.Mean, 1e-15)

	// b (bool): counts only.
	c = s.Columns[4]
	require.Equal(t, KindOther, c.Kind)
	require.Equal(t, [2]int64{4, 3}, [2]int64{c.Count, c.Nulls})

	var out bytes.Buffer
	require.NoError(t, s.Format(&out))
	want := "" +
		"column  type     count  nulls  min  max  mean    distinct  top value (share)\n" +
		"t       int64    6      1      9    15   12.00\n" +
		"s       utf8     6      1      a    c            3         a (50.00 %)\n" +
		"x       float64  5      2      -2   4    1.0000\n" +
		"n       int32    5      2      -10  7    -0.20\n" +
		"b       bool     4      3\n" +
		"7 rows in 2 batches\n" +
		"event time t: 2 late rows (33.333 %) behind the running maximum, max lateness 6\n"
	require.Equal(t, want, out.String())
}

func TestSummarizeEdgeCases(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String},
	}, nil)
	build := func(is []int64, ss []string) arrow.Record {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues(is, nil)
		b.Field(1).(*array.StringBuilder).AppendValues(ss, nil)
		return b.NewRecord()
	}
	cases := []struct {
		name     string
		is       []int64
		ss       []string
		min, max int64
		mean     float64
		top      string
	}{
		// The 128-bit sum does not overflow where int64 would.
		{"int64 max twice", []int64{math.MaxInt64, math.MaxInt64}, []string{"x", "y"}, math.MaxInt64, math.MaxInt64, float64(math.MaxInt64), "x"},
		{"int64 min twice", []int64{math.MinInt64, math.MinInt64}, []string{"y", "x"}, math.MinInt64, math.MinInt64, float64(math.MinInt64), "x"},
		{"all negative", []int64{-5, -3, -4}, []string{"b", "a", "b"}, -5, -3, -4, "b"},
		// Ties go to the smallest string.
		{"tie", []int64{1, 2, 3, 4}, []string{"y", "x", "y", "x"}, 1, 4, 2.5, "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := build(c.is, c.ss)
			defer r.Release()
			rdr, err := array.NewRecordReader(schema, []arrow.Record{r})
			require.NoError(t, err)
			defer rdr.Release()
			s, err := Summarize(rdr)
			require.NoError(t, err)
			require.Nil(t, s.EventTime, "no event-time column in this schema")
			require.Equal(t, [2]int64{c.min, c.max}, [2]int64{s.Columns[0].MinInt, s.Columns[0].MaxInt})
			require.Equal(t, c.mean, s.Columns[0].Mean)
			require.Equal(t, c.top, s.Columns[1].Top)
		})
	}

	t.Run("no rows", func(t *testing.T) {
		rdr, err := array.NewRecordReader(schema, nil)
		require.NoError(t, err)
		defer rdr.Release()
		s, err := Summarize(rdr)
		require.NoError(t, err)
		require.Equal(t, int64(0), s.Rows)
		require.Equal(t, 0.0, s.Columns[0].Mean)
		require.Equal(t, 0.0, s.Columns[1].TopShare)
		var out bytes.Buffer
		require.NoError(t, s.Format(&out))
		require.Contains(t, out.String(), "0 rows in 0 batches")
	})
}

// fakeReader yields recs, then fails with err.
type fakeReader struct {
	schema *arrow.Schema
	recs   []arrow.Record
	cur    arrow.Record
	err    error
}

func (f *fakeReader) Retain()               {}
func (f *fakeReader) Release()              {}
func (f *fakeReader) Schema() *arrow.Schema { return f.schema }
func (f *fakeReader) Record() arrow.Record  { return f.cur }
func (f *fakeReader) Err() error            { return f.err }
func (f *fakeReader) Next() bool {
	if len(f.recs) == 0 {
		return false
	}
	f.cur, f.recs = f.recs[0], f.recs[1:]
	return true
}

func TestSummarizeErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := NewMarketData(mem, MarketDataConfig{Rows: 10, Seed: 1})
	recs, err := g.GenerateAll()
	require.NoError(t, err)
	g.Release()
	defer release(recs)

	boom := errors.New("disk on fire")
	_, err = Summarize(&fakeReader{schema: MarketDataSchema(), recs: recs, err: boom})
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "reading batch 1")

	short := arrow.NewSchema(MarketDataSchema().Fields()[:2], nil)
	_, err = Summarize(&fakeReader{schema: short, recs: recs})
	require.ErrorContains(t, err, "batch 0 has 5 columns, the schema 2")

	swapped := arrow.NewSchema([]arrow.Field{
		MarketDataSchema().Field(0), MarketDataSchema().Field(1), MarketDataSchema().Field(3),
		MarketDataSchema().Field(2), MarketDataSchema().Field(4),
	}, nil)
	_, err = Summarize(&fakeReader{schema: swapped, recs: recs})
	require.ErrorContains(t, err, "column price has type int64, the schema says float64")
}

// TestSummarizeMarketData: on generated data the summary agrees with a
// direct count of the rows.
func TestSummarizeMarketData(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := NewMarketData(mem, MarketDataConfig{Rows: 100_000, Seed: 42, BatchSize: 3000})
	defer g.Release()
	recs, err := g.GenerateAll()
	require.NoError(t, err)
	defer release(recs)

	var sym0, qtySum, minT, maxT int64
	minT, maxT = math.MaxInt64, math.MinInt64
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			if r.Column(1).(*array.String).Value(i) == "SYM0000" {
				sym0++
			}
			qtySum += r.Column(4).(*array.Int64).Value(i)
			tt := r.Column(0).(*array.Int64).Value(i)
			minT, maxT = min(minT, tt), max(maxT, tt)
		}
	}
	rdr, err := array.NewRecordReader(MarketDataSchema(), recs)
	require.NoError(t, err)
	defer rdr.Release()
	s, err := Summarize(rdr)
	require.NoError(t, err)
	require.Equal(t, int64(100_000), s.Rows)
	require.Equal(t, 34, s.Batches)
	require.Equal(t, "SYM0000", s.Columns[1].Top)
	require.Equal(t, sym0, s.Columns[1].TopCount)
	require.LessOrEqual(t, s.Columns[1].Distinct, int64(NumSymbols))
	require.Equal(t, float64(qtySum)/100_000, s.Columns[4].Mean)
	require.Equal(t, [2]int64{minT, maxT}, [2]int64{s.Columns[0].MinInt, s.Columns[0].MaxInt})
	require.NotNil(t, s.EventTime)
	require.Equal(t, ColumnTradeTime, s.EventTime.Column)
	require.InDelta(t, 0.01, s.EventTime.LateFraction, 0.002)
	require.LessOrEqual(t, s.EventTime.MaxLateness, MaxLatenessMillis)
	var out bytes.Buffer
	require.NoError(t, s.Format(&out))
	require.Equal(t, 1+5+2, strings.Count(out.String(), "\n"))
}

// TestSummarizeOtherTypes: timestamp event time, float32, large_utf8 and
// uint8 go through the same statistics (hand-computed).
func TestSummarizeOtherTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms,
			Metadata: arrow.NewMetadata([]string{EventTimeMetadataKey}, []string{"true"})},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint8},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{100, 90, 120, 119}, nil)
	b.Field(1).(*array.Float32Builder).AppendValues([]float32{0.5, -1.5, 2, 3}, nil)
	b.Field(2).(*array.LargeStringBuilder).AppendValues([]string{"zz", "é", "zz", ""}, nil)
	b.Field(3).(*array.Uint8Builder).AppendValues([]uint8{255, 0, 1, 2}, nil)
	rec := b.NewRecord()
	defer rec.Release()
	rdr, err := array.NewRecordReader(schema, []arrow.Record{rec})
	require.NoError(t, err)
	defer rdr.Release()
	s, err := Summarize(rdr)
	require.NoError(t, err)

	// ts: 100, 90 (10 behind), 120, 119 (1 behind).
	require.Equal(t, &EventTimeSummary{Column: "ts", LateRows: 2, LateFraction: 0.5, MaxLateness: 10}, s.EventTime)
	require.Equal(t, [2]int64{90, 120}, [2]int64{s.Columns[0].MinInt, s.Columns[0].MaxInt})
	require.Equal(t, 107.25, s.Columns[0].Mean)
	// f: mean (0.5 - 1.5 + 2 + 3) / 4 = 1.
	require.Equal(t, [3]float64{-1.5, 3, 1}, [3]float64{s.Columns[1].Min, s.Columns[1].Max, s.Columns[1].Mean})
	// ls: byte order "" < "zz" < "é"; "zz" twice.
	c := s.Columns[2]
	require.Equal(t, [3]string{"", "é", "zz"}, [3]string{c.MinString, c.MaxString, c.Top})
	require.Equal(t, int64(3), c.Distinct)
	// u: 255 0 1 2 → mean 64.5.
	require.Equal(t, KindInteger, s.Columns[3].Kind)
	require.Equal(t, [2]int64{0, 255}, [2]int64{s.Columns[3].MinInt, s.Columns[3].MaxInt})
	require.Equal(t, 64.5, s.Columns[3].Mean)
}
