package columnar

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/stretchr/testify/require"
)

func TestFixedWidthViews(t *testing.T) {
	mem := newMem(t)
	valid := []bool{true, false, true, true, false, true, true, true, true, true}
	i64 := BuildInt64(mem, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, valid)
	i32 := BuildInt32(mem, []int32{0, -1, -2, -3, -4, -5, -6, -7, -8, -9}, nil)
	f64 := BuildFloat64(mem, []float64{0.5, 1.5, math.Inf(1), 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5}, valid)
	f32 := BuildFloat32(mem, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil)
	ts := BuildTimestamp(mem, arrow.Microsecond, []int64{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}, valid)
	defer func() {
		for _, a := range []arrow.Array{i64, i32, f64, f32, ts} {
			a.Release()
		}
	}()

	v64, err := Int64Values(i64)
	require.NoError(t, err)
	require.Equal(t, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, v64)
	v32, err := Int32Values(i32)
	require.NoError(t, err)
	require.Equal(t, int32(-9), v32[9])
	vf, err := Float64Values(f64)
	require.NoError(t, err)
	require.True(t, math.IsInf(vf[2], 1))
	vf32, err := Float32Values(f32)
	require.NoError(t, err)
	require.Equal(t, float32(7), vf32[7])
	vts, unit, err := TimestampValues(ts)
	require.NoError(t, err)
	require.Equal(t, arrow.Microsecond, unit)
	require.Equal(t, int64(109), vts[9])
	tv, err := TimeValues(ts)
	require.NoError(t, err)
	require.Equal(t, vts, tv)
	tv, err = TimeValues(i64)
	require.NoError(t, err)
	require.Equal(t, v64, tv)

	// Zero-copy: the view aliases the Arrow buffer.
	require.Same(t, &i64.Data().Buffers()[1].Bytes()[0], (*byte)(unsafePointer(&v64[0])))

	// Slices honour the array offset, for values and validity.
	for _, off := range []int{0, 1, 3, 7, 9} {
		s := array.NewSlice(i64, int64(off), 10)
		vals, err := Int64Values(s)
		require.NoError(t, err)
		require.Equal(t, 10-off, len(vals))
		bits, boff := Validity(s)
		for i := range vals {
			require.Equal(t, int64(off+i), vals[i])
			require.Equal(t, valid[off+i], IsValid(bits, boff, i), "offset %d row %d", off, i)
			require.Equal(t, s.IsValid(i), IsValid(bits, boff, i))
		}
		tsS := array.NewSlice(ts, int64(off), 10)
		tvals, _, err := TimestampValues(tsS)
		require.NoError(t, err)
		require.Equal(t, int64(100+off), tvals[0])
		s.Release()
		tsS.Release()
	}
	// No nulls, no bitmap: kernels can skip null checks.
	bits, _ := Validity(i32)
	require.Nil(t, bits)
	require.True(t, IsValid(nil, 0, 5))
	// A slice without the null rows has no nulls either.
	s := array.NewSlice(i64, 5, 10)
	bits, _ = Validity(s)
	require.Nil(t, bits)
	s.Release()
}

func TestBoolAndStringViews(t *testing.T) {
	mem := newMem(t)
	b := BuildBool(mem, []bool{true, false, false, true, true, false, true, false, true}, nil)
	defer b.Release()
	s := BuildString(mem, []string{"", "日本語", "x", "😀", "yz"}, []bool{true, true, false, true, true})
	defer s.Release()
	for _, off := range []int{0, 1, 3, 8} {
		sl := array.NewSlice(b, int64(off), 9)
		bits, boff, err := BoolBits(sl)
		require.NoError(t, err)
		for i := 0; i < sl.Len(); i++ {
			require.Equal(t, sl.(*array.Boolean).Value(i), IsValid(bits, boff, i))
		}
		sl.Release()
	}
	for _, off := range []int{0, 1, 2, 4} {
		sl := array.NewSlice(s, int64(off), 5)
		offs, data, err := StringData(sl)
		require.NoError(t, err)
		require.Len(t, offs, sl.Len()+1)
		for i := 0; i < sl.Len(); i++ {
			require.Equal(t, sl.(*array.String).Value(i), string(data[offs[i]:offs[i+1]]))
		}
		sl.Release()
	}
	empty := BuildString(mem, nil, nil)
	defer empty.Release()
	offs, _, err := StringData(empty)
	require.NoError(t, err)
	require.Equal(t, []int32{0}, offs)
}

func TestViewTypeErrors(t *testing.T) {
	mem := newMem(t)
	schema := NewSchema([]string{"price", "name", "qty"},
		[]arrow.DataType{arrow.PrimitiveTypes.Float64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32})
	rec := NewRecord(schema, []arrow.Array{
		BuildFloat64(mem, []float64{1}, nil), BuildString(mem, []string{"a"}, nil), BuildInt32(mem, []int32{3}, nil),
	})
	defer rec.Release()

	_, err := Int64Values(rec.Column(0))
	require.ErrorIs(t, err, ErrType)
	require.ErrorContains(t, err, "have float64, want int64")
	_, _, err = StringData(rec.Column(0))
	require.ErrorContains(t, err, "want utf8")
	_, _, err = BoolBits(rec.Column(1))
	require.ErrorContains(t, err, "have utf8, want bool")
	_, err = TimeValues(rec.Column(0))
	require.ErrorContains(t, err, "want int64 or timestamp")

	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"Int64Column", func() error { _, err := Int64Column(rec, "price"); return err }, `column "price": columnar: column type mismatch: have float64, want int64`},
		{"Int32Column", func() error { _, err := Int32Column(rec, "name"); return err }, `column "name"`},
		{"Float64Column", func() error { _, err := Float64Column(rec, "qty"); return err }, `column "qty"`},
		{"Float32Column", func() error { _, err := Float32Column(rec, "price"); return err }, `column "price"`},
		{"TimestampColumn", func() error { _, _, err := TimestampColumn(rec, "qty"); return err }, `column "qty"`},
		{"StringColumn", func() error { _, _, err := StringColumn(rec, "qty"); return err }, `column "qty"`},
		{"unknown name", func() error { _, err := Float64Column(rec, "prices"); return err }, `did you mean "price"`},
	}
	for _, c := range cases {
		err := c.call()
		require.ErrorContains(t, err, c.want, c.name)
	}
	v, err := Float64Column(rec, "price")
	require.NoError(t, err)
	require.Equal(t, []float64{1}, v)
	q, err := Int32Column(rec, "qty")
	require.NoError(t, err)
	require.Equal(t, []int32{3}, q)
	offs, data, err := StringColumn(rec, "name")
	require.NoError(t, err)
	require.Equal(t, "a", string(data[offs[0]:offs[1]]))
}

func TestBuilders(t *testing.T) {
	mem := newMem(t)
	ts := BuildTimestamp(mem, arrow.Millisecond, []int64{5, 6}, []bool{false, true})
	defer ts.Release()
	require.Equal(t, &arrow.TimestampType{Unit: arrow.Millisecond}, ts.DataType())
	require.True(t, ts.IsNull(0))
	require.Equal(t, arrow.Timestamp(6), ts.(*array.Timestamp).Value(1))
	require.Panics(t, func() { BuildInt64(mem, []int64{1, 2}, []bool{true}) })

	schema := NewSchema([]string{"a"}, []arrow.DataType{arrow.PrimitiveTypes.Int64})
	require.Panics(t, func() { NewRecord(schema, nil) })
	col := BuildInt32(mem, []int32{1}, nil)
	require.Panics(t, func() { NewRecord(schema, []arrow.Array{col}) })
	col.Release()
	empty := NewRecord(NewSchema(nil, nil), nil)
	require.Zero(t, empty.NumRows())
	empty.Release()
}

// TestTimeBounds checks TimeBounds against a scalar scan over random int64
// and timestamp columns with NULLs, sliced at odd offsets, every length
// 0..300 (empty and all-NULL give MaxInt64 / MinInt64), and its error for
// other types.
func TestTimeBounds(t *testing.T) {
	mem := newMem(t)
	rng := rand.New(rand.NewPCG(7, 11))
	for n := range 301 {
		vals := make([]int64, n+3)
		valid := make([]bool, n+3)
		nullRate := rng.IntN(3) // 0: none, 1: some, 2: most
		for i := range vals {
			vals[i] = rng.Int64N(2_000_000) - 1_000_000
			valid[i] = nullRate == 0 || rng.IntN(4) >= nullRate+1
		}
		for _, ts := range []bool{false, true} {
			var full arrow.Array
			if ts {
				full = BuildTimestamp(mem, arrow.Millisecond, vals, valid)
			} else {
				full = BuildInt64(mem, vals, valid)
			}
			off := rng.IntN(4)
			a := array.NewSlice(full, int64(off), int64(off+n))
			wantLo, wantHi := int64(math.MaxInt64), int64(math.MinInt64)
			for i := off; i < off+n; i++ {
				if valid[i] {
					wantLo, wantHi = min(wantLo, vals[i]), max(wantHi, vals[i])
				}
			}
			lo, hi, err := TimeBounds(a)
			require.NoError(t, err)
			require.Equal(t, [2]int64{wantLo, wantHi}, [2]int64{lo, hi}, "n=%d off=%d timestamp=%v", n, off, ts)
			a.Release()
			full.Release()
		}
	}
	f := BuildFloat64(mem, []float64{1}, nil)
	defer f.Release()
	_, _, err := TimeBounds(f)
	require.Error(t, err)
}
