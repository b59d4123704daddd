package columnar

import (
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// TestSameTypeMatchesTypeEqual: sameType answers as arrow.TypeEqual for
// every pair of a set of plain and parametric types.
func TestSameTypeMatchesTypeEqual(t *testing.T) {
	types := []arrow.DataType{
		arrow.Null, arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int32,
		arrow.PrimitiveTypes.Int64, &arrow.Int64Type{}, arrow.PrimitiveTypes.Uint64, arrow.PrimitiveTypes.Float32,
		arrow.PrimitiveTypes.Float64, arrow.BinaryTypes.String, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeString,
		arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Date64,
		&arrow.TimestampType{Unit: arrow.Millisecond}, &arrow.TimestampType{Unit: arrow.Millisecond},
		&arrow.TimestampType{Unit: arrow.Microsecond}, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"},
		&arrow.DurationType{Unit: arrow.Second}, &arrow.DurationType{Unit: arrow.Millisecond},
		&arrow.Decimal128Type{Precision: 10, Scale: 2}, &arrow.Decimal128Type{Precision: 12, Scale: 2},
		&arrow.FixedSizeBinaryType{ByteWidth: 4}, &arrow.FixedSizeBinaryType{ByteWidth: 8},
		arrow.ListOf(arrow.PrimitiveTypes.Int64), arrow.ListOf(arrow.PrimitiveTypes.Int32),
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String},
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String},
		arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64}),
		arrow.StructOf(arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int64}),
	}
	for _, a := range types {
		for _, b := range types {
			require.Equal(t, arrow.TypeEqual(a, b), sameType(a, b), "%s vs %s", a, b)
		}
	}
}

// TestMakeRecord: MakeRecord's records hold what array.NewRecord's do,
// retain and release their columns, slice and replace columns like them,
// and refuse what array.NewRecord refuses.
func TestMakeRecord(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := &arrow.TimestampType{Unit: arrow.Millisecond}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "t", Type: ts},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	k := BuildString(mem, []string{"a", "", "ccc", "d"}, []bool{true, false, true, true})
	defer k.Release()
	tb := array.NewTimestampBuilder(mem, ts)
	tb.AppendValues([]arrow.Timestamp{1, 2, 3, 4}, nil)
	tc := tb.NewArray()
	tb.Release()
	defer tc.Release()
	v := BuildFloat64(mem, []float64{0.5, 1, 2, 3}, []bool{true, true, false, true})
	defer v.Release()
	cols := []arrow.Array{k, tc, v}

	want := array.NewRecord(schema, cols, -1)
	defer want.Release()
	got := MakeRecord(schema, cols, -1)
	require.True(t, array.RecordEqual(want, got))
	require.EqualValues(t, 4, got.NumRows())
	require.EqualValues(t, 3, got.NumCols())
	require.Equal(t, "t", got.ColumnName(1))
	wj, err := want.MarshalJSON()
	require.NoError(t, err)
	gj, err := got.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, string(wj), string(gj))

	ws, gs := want.NewSlice(1, 3), got.NewSlice(1, 3)
	require.True(t, array.RecordEqual(ws, gs))
	ws.Release()
	gs.Release()

	v2 := BuildFloat64(mem, []float64{9, 8, 7, 6}, nil)
	defer v2.Release()
	wc, err := want.SetColumn(2, v2)
	require.NoError(t, err)
	gc, err := got.SetColumn(2, v2)
	require.NoError(t, err)
	require.True(t, array.RecordEqual(wc, gc))
	wc.Release()
	gc.Release()
	_, err = got.SetColumn(2, k)
	require.Error(t, err)
	_, err = got.SetColumn(3, v2)
	require.Error(t, err)

	require.Equal(t, fmt.Sprint(want), fmt.Sprint(got))
	// A record over longer columns slices up to the columns' length, as
	// array.NewRecord's does.
	wl, gl := array.NewRecord(schema, cols, 2), MakeRecord(schema, cols, 2)
	ws, gs = wl.NewSlice(1, 4), gl.NewSlice(1, 4)
	require.True(t, array.RecordEqual(ws, gs))
	require.EqualValues(t, 3, gs.NumRows())
	for _, r := range []arrow.Record{wl, gl, ws, gs} {
		r.Release()
	}

	got.Retain()
	got.Release()
	got.Release()

	tus := &arrow.TimestampType{Unit: arrow.Microsecond}
	ub := array.NewTimestampBuilder(mem, tus)
	ub.AppendValues([]arrow.Timestamp{1, 2, 3, 4}, nil)
	tu := ub.NewArray()
	ub.Release()
	defer tu.Release()
	short := BuildFloat64(mem, []float64{1}, nil)
	defer short.Release()
	for name, bad := range map[string][]arrow.Array{
		"type":         {k, tc, k},
		"unit":         {k, tu, v},
		"rows":         {k, tc, short},
		"column count": {k, tc},
	} {
		require.Panics(t, func() { array.NewRecord(schema, bad, 4) }, name)
		require.Panics(t, func() { MakeRecord(schema, bad, 4) }, name)
	}
}

// BenchmarkMakeRecord: a 9-column record (S3b's output) through
// array.NewRecord and MakeRecord.
//
//	go test -run '^$' -bench MakeRecord -count 5 ./columnar/
func BenchmarkMakeRecord(b *testing.B) {
	mem := memory.NewGoAllocator()
	var fields []arrow.Field
	var cols []arrow.Array
	for i := range 9 {
		dt := []arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64}[i%3]
		fields = append(fields, arrow.Field{Name: string(rune('a' + i)), Type: dt})
		bld := array.NewBuilder(mem, dt)
		bld.AppendNull()
		cols = append(cols, bld.NewArray())
		bld.Release()
	}
	schema := arrow.NewSchema(fields, nil)
	for _, v := range []struct {
		name string
		mk   func(*arrow.Schema, []arrow.Array, int64) arrow.Record
	}{{"array.NewRecord", array.NewRecord}, {"MakeRecord", MakeRecord}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.mk(schema, cols, 1).Release()
			}
		})
	}
}
