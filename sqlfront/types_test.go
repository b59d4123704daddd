package sqlfront

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/stretchr/testify/require"
)

func TestCommonType(t *testing.T) {
	tsMs, tsUs := timestampType(arrow.Millisecond), timestampType(arrow.Microsecond)
	tsUTC := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	cases := []struct {
		a, b arrow.DataType
		want arrow.DataType // nil: no common type
	}{
		{typeInt32, typeInt32, typeInt32},
		{typeInt32, typeInt64, typeInt64},
		{arrow.PrimitiveTypes.Int16, typeInt32, typeInt64},
		{typeInt32, typeFloat32, typeFloat64},
		{typeFloat32, typeFloat32, typeFloat32},
		{typeNull, typeUtf8, typeUtf8},
		{typeBool, typeNull, typeBool},
		{typeUtf8, arrow.BinaryTypes.LargeString, typeUtf8},
		{tsMs, tsUs, tsUs},
		{tsUs, tsMs, tsUs},
		{typeDate32, tsMs, tsMs},
		{tsMs, typeDate32, tsMs},
		{tsMs, tsUTC, nil},
		{typeUtf8, typeInt64, nil},
		{typeBool, typeInt64, nil},
		{typeDate32, typeInt32, nil},
	}
	for _, c := range cases {
		got, ok := commonType(c.a, c.b)
		if c.want == nil {
			require.False(t, ok, "%s, %s", c.a, c.b)
			continue
		}
		require.True(t, ok, "%s, %s", c.a, c.b)
		require.True(t, arrow.TypeEqual(c.want, got), "%s, %s: got %s", c.a, c.b, got)
	}
}

func TestCanCastAndTypeNames(t *testing.T) {
	names := []struct {
		name string
		args []int64
		want arrow.DataType
	}{
		{"BIGINT", nil, typeInt64}, {"INT8", nil, typeInt64}, {"INTEGER", nil, typeInt32}, {"INT", nil, typeInt32},
		{"DOUBLE", nil, typeFloat64}, {"DOUBLE PRECISION", nil, typeFloat64}, {"REAL", nil, typeFloat32}, {"FLOAT", nil, typeFloat32},
		{"BOOLEAN", nil, typeBool}, {"BOOL", nil, typeBool}, {"VARCHAR", []int64{10}, typeUtf8}, {"TEXT", nil, typeUtf8},
		{"TIMESTAMP", nil, timestampType(arrow.Microsecond)}, {"TIMESTAMP_MS", nil, timestampType(arrow.Millisecond)},
		{"TIMESTAMP_S", nil, timestampType(arrow.Second)}, {"TIMESTAMP_NS", nil, timestampType(arrow.Nanosecond)}, {"DATE", nil, typeDate32},
	}
	for _, n := range names {
		got, err := typeFromName(TypeName{Name: n.name, Args: n.args})
		require.NoError(t, err, n.name)
		require.True(t, arrow.TypeEqual(n.want, got), n.name)
	}
	for _, bad := range []TypeName{{Name: "BIGINT", Args: []int64{1}}, {Name: "VARCHAR", Args: []int64{1, 2}}, {Name: "DECIMAL"}} {
		_, err := typeFromName(bad)
		require.Error(t, err, bad.String())
	}
	casts := []struct {
		from, to arrow.DataType
		ok       bool
	}{
		{typeInt32, typeFloat64, true}, {typeFloat64, typeInt64, true}, {typeInt64, typeUtf8, true}, {typeBool, typeUtf8, true},
		{typeUtf8, typeInt64, true}, {typeUtf8, typeDate32, true}, {typeUtf8, timestampType(arrow.Millisecond), true},
		{typeBool, typeInt32, true}, {typeInt64, typeBool, true}, {typeFloat64, typeBool, false},
		{typeInt64, timestampType(arrow.Millisecond), true}, {timestampType(arrow.Millisecond), typeInt64, true},
		{typeInt32, timestampType(arrow.Millisecond), false}, {typeDate32, timestampType(arrow.Second), true},
		{typeDate32, typeInt64, false}, {typeNull, typeDate32, true},
	}
	for _, c := range casts {
		require.Equal(t, c.ok, canCast(c.from, c.to), "%s -> %s", c.from, c.to)
	}
}

func TestFoldCast(t *testing.T) {
	c := func(v any, typ arrow.DataType) *Const { return &Const{Typed: Typed{Type: typ}, Value: v} }
	cases := []struct {
		in    *Const
		to    arrow.DataType
		want  any
		exact bool
	}{
		{c(int64(7), typeInt64), typeInt32, int32(7), true},
		{c(int64(1)<<40, typeInt64), typeInt32, nil, false},
		{c(int64(3), typeInt64), typeFloat64, 3.0, true},
		{c(int32(3), typeInt32), typeInt64, int64(3), true},
		{c(0.5, typeFloat64), typeFloat32, float32(0.5), true},
		{c(0.1, typeFloat64), typeFloat32, nil, false},
		{c(int32(1), typeDate32), timestampType(arrow.Millisecond), int64(86_400_000), true},
		{c(int64(1500), timestampType(arrow.Millisecond)), timestampType(arrow.Second), nil, false},
		{c(int64(2000), timestampType(arrow.Millisecond)), timestampType(arrow.Second), int64(2), true},
		{c(int64(2), timestampType(arrow.Second)), timestampType(arrow.Nanosecond), int64(2_000_000_000), true},
		{c("1970-01-01 00:00:01.5", typeUtf8), timestampType(arrow.Millisecond), int64(1500), true},
		{c("1970-01-03", typeUtf8), typeDate32, int32(2), true},
		{c("x", typeUtf8), typeInt64, nil, false},
	}
	for _, k := range cases {
		got, exact, err := foldCast(k.in, k.to)
		require.NoError(t, err)
		require.Equal(t, k.exact, exact, "%v -> %s", k.in.Value, k.to)
		if exact {
			require.Equal(t, k.want, got.Value, "%v -> %s", k.in.Value, k.to)
		}
	}
	_, _, err := foldCast(c("not a date", typeUtf8), typeDate32)
	require.EqualError(t, err, "malformed date 'not a date' (want 'YYYY-MM-DD')")
}

func TestSuggest(t *testing.T) {
	cands := []string{"price", "quantity", "symbol", "trade_time"}
	require.Equal(t, ` (did you mean "price"?)`, suggest("prcie", cands), "transposition is one edit")
	require.Equal(t, ` (did you mean "trade_time"?)`, suggest("TRADE_TIM", cands))
	require.Equal(t, "", suggest("x", cands))
	require.Equal(t, "", suggest("volume", cands))
	require.Equal(t, 3, editDistance("kitten", "sitting"))
	require.Equal(t, 1, editDistance("ab", "ba"))
	require.Equal(t, 0, editDistance("ÉTÉ", "été"))
}
