package columnar

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/stretchr/testify/require"
)

func TestFieldIndex(t *testing.T) {
	schema := NewSchema([]string{"trade_time", "symbol", "price", "quantity"},
		[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64})
	i, err := FieldIndex(schema, "price")
	require.NoError(t, err)
	require.Equal(t, 2, i)

	cases := []struct {
		name, suggest string
	}{
		{"prcie", "price"},
		{"Symbol", "symbol"},
		{"trade_tme", "trade_time"},
		{"quantities", "quantity"},
		{"tradetime", "trade_time"},
	}
	for _, c := range cases {
		_, err := FieldIndex(schema, c.name)
		require.ErrorIs(t, err, ErrNoColumn)
		require.ErrorContains(t, err, `no such column "`+c.name+`"`)
		require.ErrorContains(t, err, "available: trade_time, symbol, price, quantity")
		require.ErrorContains(t, err, `did you mean "`+c.suggest+`"?`)
	}
	_, err = FieldIndex(schema, "xyzzy")
	require.ErrorContains(t, err, "available: ")
	require.NotContains(t, err.Error(), "did you mean", "no suggestion for an unrelated name")
	_, err = FieldIndex(NewSchema(nil, nil), "a")
	require.ErrorContains(t, err, "has no columns")

	dup := NewSchema([]string{"a", "a"}, []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int64})
	_, err = FieldIndex(dup, "a")
	require.ErrorContains(t, err, `"a" is ambiguous`)
}

func TestEventTime(t *testing.T) {
	i64, f64 := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64
	ts := &arrow.TimestampType{Unit: arrow.Millisecond}
	plain := func(n string, ty arrow.DataType) arrow.Field { return arrow.Field{Name: n, Type: ty, Nullable: true} }

	declared := arrow.NewSchema([]arrow.Field{plain("v", f64), EventTimeField("t", ts)}, nil)
	idx, err := EventTimeIndex(declared, "")
	require.NoError(t, err)
	require.Equal(t, 1, idx)

	none := arrow.NewSchema([]arrow.Field{plain("v", f64), plain("t", i64)}, nil)
	idx, err = EventTimeIndex(none, "")
	require.NoError(t, err)
	require.Equal(t, -1, idx, "no declaration, no name: no event-time column")

	idx, err = EventTimeIndex(none, "t")
	require.NoError(t, err)
	require.Equal(t, 1, idx, "by name")

	_, err = EventTimeIndex(none, "v")
	require.ErrorContains(t, err, `event-time column "v" is float64, want int64 or timestamp`)
	_, err = EventTimeIndex(none, "tt")
	require.ErrorContains(t, err, `did you mean "t"`)

	twice := arrow.NewSchema([]arrow.Field{EventTimeField("a", i64), plain("v", f64), EventTimeField("b", ts)}, nil)
	_, err = EventTimeIndex(twice, "")
	require.ErrorContains(t, err, `declared twice`)
	require.ErrorContains(t, err, `"a" and "b"`)

	wrong := arrow.NewSchema([]arrow.Field{EventTimeField("v", f64)}, nil)
	_, err = EventTimeIndex(wrong, "")
	require.ErrorIs(t, err, ErrType)
	require.ErrorContains(t, err, `"v" is float64`)

	// WithEventTime moves the declaration and keeps other metadata.
	other := arrow.NewMetadata([]string{"unit"}, []string{"ms"})
	base := arrow.NewSchema([]arrow.Field{EventTimeField("a", i64), {Name: "b", Type: ts, Metadata: other}}, nil)
	moved, err := WithEventTime(base, "b")
	require.NoError(t, err)
	idx, err = EventTimeIndex(moved, "")
	require.NoError(t, err)
	require.Equal(t, 1, idx)
	v, ok := moved.Field(1).Metadata.GetValue("unit")
	require.True(t, ok)
	require.Equal(t, "ms", v)
	idx, err = EventTimeIndex(base, "")
	require.NoError(t, err)
	require.Equal(t, 0, idx, "the input schema is unchanged")
	_, err = WithEventTime(none, "v")
	require.ErrorContains(t, err, `"v" is float64`)
	_, err = WithEventTime(none, "nope")
	require.ErrorIs(t, err, ErrNoColumn)
}
