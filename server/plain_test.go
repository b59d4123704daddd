package server

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// dictArray builds a dictionary array over values with the given indices
// (-1 is a null row).
func dictArray(t *testing.T, mem memory.Allocator, values arrow.Array, idx []int32) arrow.Array {
	t.Helper()
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	for _, i := range idx {
		if i < 0 {
			ib.AppendNull()
		} else {
			ib.Append(i)
		}
	}
	indices := ib.NewArray()
	defer indices.Release()
	return array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: values.DataType()}, indices, values)
}

func TestDecodeDictionary(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		name   string
		values func() arrow.Array
		want   []string
	}{
		{"utf8", func() arrow.Array {
			b := array.NewStringBuilder(mem)
			defer b.Release()
			b.AppendValues([]string{"a", "bb", ""}, []bool{true, true, false})
			return b.NewArray()
		}, []string{"bb", "a", array.NullValueStr, "bb", array.NullValueStr}},
		{"int16 (generic path)", func() arrow.Array {
			b := array.NewInt16Builder(mem)
			defer b.Release()
			b.AppendValues([]int16{-7, 300, 0}, []bool{true, true, false})
			return b.NewArray()
		}, []string{"300", "-7", array.NullValueStr, "300", array.NullValueStr}},
		{"float64", func() arrow.Array {
			b := array.NewFloat64Builder(mem)
			defer b.Release()
			b.AppendValues([]float64{0.1, 2.5, 0}, []bool{true, true, false})
			return b.NewArray()
		}, []string{"2.5", "0.1", array.NullValueStr, "2.5", array.NullValueStr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values := tc.values()
			d := dictArray(t, mem, values, []int32{1, 0, -1, 1, 2})
			values.Release()
			defer d.Release()
			plain, err := decodeDictionary(mem, d.(*array.Dictionary))
			require.NoError(t, err)
			defer plain.Release()
			require.True(t, arrow.TypeEqual(d.(*array.Dictionary).Dictionary().DataType(), plain.DataType()))
			got := make([]string, plain.Len())
			for i := range got {
				got[i] = plain.ValueStr(i)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDictionaryColumnsGoOutPlain(t *testing.T) {
	env := startServer(t, Config{})
	ctx := testContext(t)
	sb := array.NewStringBuilder(env.mem)
	sb.AppendValues([]string{"x", "it's"}, nil)
	values := sb.NewArray()
	sb.Release()
	col := dictArray(t, env.mem, values, []int32{0, 1, 1, -1, 0})
	values.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: col.DataType(), Nullable: true}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{col}, int64(col.Len()))
	col.Release()
	require.NoError(t, env.srv.RegisterTable("dict", rec))
	rec.Release()

	want := []string{"(null)", "it's", "it's", "x", "x"}
	rows, err := env.db(t, "").QueryContext(ctx, "SELECT s FROM dict")
	require.NoError(t, err)
	require.Equal(t, want, sqlRows(t, rows), "database/sql cannot scan dictionaries: the column must arrive as utf8")

	c := env.client(t)
	sr, err := c.GetExecuteSchema(ctx, "SELECT s FROM dict")
	require.NoError(t, err)
	fs, err := flight.DeserializeSchema(sr.GetSchema(), env.mem)
	require.NoError(t, err)
	require.True(t, arrow.TypeEqual(arrow.BinaryTypes.String, fs.Field(0).Type), "FlightInfo schema: %s", fs)
	require.Equal(t, want, flightRows(ctx, t, c, "SELECT s FROM dict"))

	// The dispatcher path decodes too.
	got, ch, err := env.srv.DoGetStatement(context.Background(), ticketHandle("SELECT s FROM dict"))
	require.NoError(t, err)
	require.True(t, arrow.TypeEqual(arrow.BinaryTypes.String, got.Field(0).Type))
	var n int64
	for c := range ch {
		require.NoError(t, c.Err)
		require.True(t, arrow.TypeEqual(arrow.BinaryTypes.String, c.Data.Column(0).DataType()))
		n += c.Data.NumRows()
		c.Data.Release()
	}
	require.Equal(t, int64(5), n)
}
