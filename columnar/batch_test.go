package columnar

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/stretchr/testify/require"
)

func batchRecord(t *testing.T) arrow.Record {
	mem := newMem(t)
	schema := NewSchema([]string{"k", "v"}, []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String})
	return NewRecord(schema, []arrow.Array{
		BuildInt64(mem, []int64{10, 11, 12, 13, 14, 15}, nil),
		BuildString(mem, []string{"a", "b", "c", "d", "e", "f"}, nil),
	})
}

// keysOf reads the k column of the selected rows through Row.
func keysOf(t *testing.T, b Batch) []int64 {
	vals, err := Int64Values(b.Column(0))
	require.NoError(t, err)
	out := []int64{}
	for i := 0; i < b.Len(); i++ {
		out = append(out, vals[b.Row(i)])
	}
	return out
}

func TestBatchSelection(t *testing.T) {
	rec := batchRecord(t)
	all := NewBatch(rec, nil)
	sel := NewBatch(rec, []int32{1, 3, 4})
	none := NewBatch(rec, []int32{})
	rec.Release() // the batches hold their own references
	defer all.Release()
	defer sel.Release()
	defer none.Release()

	require.Equal(t, 6, all.Len())
	require.Equal(t, 6, all.NumRows())
	require.Equal(t, []int64{10, 11, 12, 13, 14, 15}, keysOf(t, all))
	require.Equal(t, 3, sel.Len())
	require.Equal(t, 6, sel.NumRows())
	require.Equal(t, []int64{11, 13, 14}, keysOf(t, sel))
	require.Equal(t, 0, none.Len(), "an empty non-nil selection selects nothing")
	require.Equal(t, "k", sel.Schema().Field(0).Name)
	require.Zero(t, Batch{}.Len())
	require.NoError(t, sel.Validate())
	require.Equal(t, []int32{0, 1, 2}, SelectAll(3))
}

func TestBatchSlice(t *testing.T) {
	rec := batchRecord(t)
	defer rec.Release()
	cases := []struct {
		name string
		sel  []int32
		i, j int
		want []int64
	}{
		{"all rows", nil, 1, 4, []int64{11, 12, 13}},
		{"all rows, empty", nil, 2, 2, []int64{}},
		{"all rows, whole", nil, 0, 6, []int64{10, 11, 12, 13, 14, 15}},
		{"selection", []int32{0, 2, 3, 5}, 1, 3, []int64{12, 13}},
		{"selection, tail", []int32{0, 2, 3, 5}, 3, 4, []int64{15}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBatch(rec, c.sel)
			b.Times = TimeRange{Col: rec.Column(0), Rows: rec.NumRows(), Min: 10, Max: 15}
			s := b.Slice(c.i, c.j)
			b.Release()
			require.Equal(t, c.want, keysOf(t, s))
			// The record's time range holds where the rows keep the
			// record's arrays (a selection), and never for a record slice.
			lo, hi, ok := s.RangeOf(s.Column(0))
			require.Equal(t, c.sel != nil, ok)
			if ok {
				require.Equal(t, [2]int64{10, 15}, [2]int64{lo, hi})
				short := Batch{Rec: MakeRecord(rec.Schema(), rec.Columns(), 3), Times: s.Times}
				_, _, shortOK := short.RangeOf(short.Column(0))
				require.False(t, shortOK, "a record of fewer rows over the same array")
				short.Release()
			}
			_, _, ok = s.RangeOf(s.Column(1))
			require.False(t, ok, "a range is only for its own column")
			require.Equal(t, len(c.want), s.Len())
			if c.sel == nil {
				// Zero-copy record slice: the view honours the array offset.
				require.Equal(t, c.j-c.i, s.NumRows())
				off, data, err := StringData(s.Column(1))
				require.NoError(t, err)
				for i := 0; i < s.Len(); i++ {
					require.Equal(t, string(rune('a'+c.i+i)), string(data[off[i]:off[i+1]]))
				}
			} else {
				require.Equal(t, 6, s.NumRows())
			}
			s.Release()
		})
	}
	b := NewBatch(rec, []int32{1, 2})
	defer b.Release()
	require.Panics(t, func() { b.Slice(1, 3) })
	require.Panics(t, func() { b.Slice(2, 1) })
}

func TestBatchValidate(t *testing.T) {
	rec := batchRecord(t)
	defer rec.Release()
	for _, c := range []struct {
		sel  []int32
		want string
	}{
		{[]int32{0, 6}, "selection[1] = 6 out of range for 6 rows"},
		{[]int32{-1}, "selection[0] = -1 out of range"},
		{[]int32{2, 2}, "selection[1] = 2 is not after selection[0] = 2"},
		{[]int32{3, 1}, "selection[1] = 1 is not after"},
	} {
		require.ErrorContains(t, Batch{Rec: rec, Sel: c.sel}.Validate(), c.want)
	}
	require.ErrorContains(t, Batch{}.Validate(), "no record")
}

func TestBatchRetainRelease(t *testing.T) {
	rec := batchRecord(t)
	b := NewBatch(rec, nil)
	rec.Release()
	b.Retain()
	b.Release()
	require.Equal(t, 6, b.Len(), "still alive after a balanced Retain/Release")
	b.Release() // the checked allocator verifies everything is freed
}
