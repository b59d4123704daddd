package columnar

import (
	"fmt"
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// newMem returns a checked allocator that fails the test if anything is
// still allocated when the test ends.
func newMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// cellValue turns one cell into a comparable Go value: nil for NULL, floats
// as their bit pattern (so -0 and 0 differ) and NaN as the string "NaN".
func cellValue(t testing.TB, col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Float64:
		if math.IsNaN(a.Value(i)) {
			return "NaN"
		}
		return math.Float64bits(a.Value(i))
	case *array.Float32:
		if math.IsNaN(float64(a.Value(i))) {
			return "NaN"
		}
		return math.Float32bits(a.Value(i))
	case *array.Boolean:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Timestamp:
		return int64(a.Value(i))
	}
	t.Fatalf("cellValue: unsupported type %s", col.DataType())
	return nil
}

// tableValues returns, per column, the cells of all records in order.
func tableValues(t testing.TB, recs []arrow.Record) [][]any {
	if len(recs) == 0 {
		return nil
	}
	out := make([][]any, recs[0].NumCols())
	for c := range out {
		out[c] = []any{}
		for _, r := range recs {
			col := r.Column(c)
			for i := 0; i < col.Len(); i++ {
				out[c] = append(out[c], cellValue(t, col, i))
			}
		}
	}
	return out
}

// readAll drains a reader, retaining every record, and closes it.
func readAll(t testing.TB, r Reader) ([]arrow.Record, error) {
	t.Helper()
	var recs []arrow.Record
	for r.Next() {
		rec := r.Record()
		rec.Retain()
		recs = append(recs, rec)
	}
	err := r.Err()
	require.NoError(t, r.Close())
	return recs, err
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// allTypesSchema has every column type the readers and writers support.
func allTypesSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	}, nil)
}

// allTypesRecords returns three batches: a hand-written one with nulls,
// special floats and unicode, an empty one, and n generated rows.
func allTypesRecords(mem memory.Allocator, n int) []arrow.Record {
	s := allTypesSchema()
	v := []bool{true, false, true, true, true, true}
	tenth := 0.1
	first := NewRecord(s, []arrow.Array{
		BuildInt64(mem, []int64{math.MaxInt64, 0, math.MinInt64, -1, 42, 7}, v),
		BuildInt32(mem, []int32{math.MaxInt32, 0, math.MinInt32, -1, 42, 7}, v),
		BuildFloat64(mem, []float64{math.NaN(), 0, math.Inf(1), math.Inf(-1), math.Copysign(0, -1), tenth + 0.2}, v),
		BuildFloat32(mem, []float32{float32(math.NaN()), 0, float32(math.Inf(1)), float32(math.Inf(-1)), 1.5, 3.4e38}, v),
		BuildBool(mem, []bool{true, false, false, true, false, true}, v),
		BuildString(mem, []string{"日本語", "", "emoji 😀🚀", "comma, \"quote\"\nnewline", " padded ", "tab\tend"}, []bool{true, true, false, true, true, true}),
		BuildTimestamp(mem, arrow.Millisecond, []int64{1_700_000_000_123, 0, -1, 0, 86_400_000, 253_402_300_799_999}, v),
	})
	empty := NewRecord(s, []arrow.Array{
		BuildInt64(mem, nil, nil), BuildInt32(mem, nil, nil), BuildFloat64(mem, nil, nil), BuildFloat32(mem, nil, nil),
		BuildBool(mem, nil, nil), BuildString(mem, nil, nil), BuildTimestamp(mem, arrow.Millisecond, nil, nil),
	})
	i64 := make([]int64, n)
	i32 := make([]int32, n)
	f64 := make([]float64, n)
	f32 := make([]float32, n)
	bs := make([]bool, n)
	ss := make([]string, n)
	ts := make([]int64, n)
	valid := make([]bool, n)
	for i := range n {
		i64[i] = int64(i)*1_000_003 - 5
		i32[i] = int32(i*31 - 7)
		f64[i] = float64(i)/7 - 3
		f32[i] = float32(i) / 3
		bs[i] = i%3 == 0
		ss[i] = fmt.Sprintf("row-%d-ü", i)
		ts[i] = 1_700_000_000_000 + int64(i)
		valid[i] = i%11 != 5
	}
	third := NewRecord(s, []arrow.Array{
		BuildInt64(mem, i64, valid), BuildInt32(mem, i32, nil), BuildFloat64(mem, f64, valid), BuildFloat32(mem, f32, nil),
		BuildBool(mem, bs, valid), BuildString(mem, ss, valid), BuildTimestamp(mem, arrow.Millisecond, ts, valid),
	})
	return []arrow.Record{first, empty, third}
}
