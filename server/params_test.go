package server

import (
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

func TestPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []int
	}{
		{"SELECT 1", nil},
		{"a = ?", []int{4}},
		{"a=? AND b=?", []int{2, 10}},
		{"'?' = ?", []int{6}},
		{"'it''s ?' = ?", []int{12}},
		{`"col?" = ?`, []int{9}},
		{`"a""?" = ?`, []int{9}},
		{"x = ? -- ?\n AND y = ?", []int{4, 20}},
		{"x /* ? */ = ?", []int{12}},
		{"x /* ? ", nil},
		{"'unterminated ?", nil},
		{"a-?", []int{2}},
	} {
		require.Equal(t, tc.want, placeholders(tc.sql), tc.sql)
	}
	require.Equal(t, "a = 1 AND b = 'x'", substitute("a = ? AND b = ?", []int{4, 14}, []string{"1", "'x'"}))
}

func TestLiteral(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	build := func(dt arrow.DataType, vals ...any) arrow.Array {
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		for _, v := range vals {
			if v == nil {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Int8Builder:
				b.Append(v.(int8))
			case *array.Uint64Builder:
				b.Append(v.(uint64))
			case *array.Float64Builder:
				b.Append(v.(float64))
			case *array.Float32Builder:
				b.Append(v.(float32))
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.Date32Builder:
				b.Append(v.(arrow.Date32))
			}
		}
		return b.NewArray()
	}
	for _, tc := range []struct {
		name string
		arr  arrow.Array
		want []string
		err  string
	}{
		{"int64", build(arrow.PrimitiveTypes.Int64, int64(5), int64(-7), nil, int64(math.MinInt64)), []string{"5", "(-7)", "NULL", "(-9223372036854775807 - 1)"}, ""},
		{"int8", build(arrow.PrimitiveTypes.Int8, int8(-128)), []string{"(-128)"}, ""},
		{"uint64", build(arrow.PrimitiveTypes.Uint64, uint64(42), uint64(math.MaxUint64)), []string{"42"}, "does not fit BIGINT"},
		{"float64", build(arrow.PrimitiveTypes.Float64, 100.0, 0.1, -2.5, 1e300, math.Copysign(0, -1), math.NaN()), []string{"100.0", "0.1", "(-2.5)", "1e+300", "(-0.0)"}, "NaN has no SQL literal"},
		{"float32", build(arrow.PrimitiveTypes.Float32, float32(0.1), float32(math.Inf(1))), []string{"0.1"}, "+Inf has no SQL literal"},
		{"bool", build(arrow.FixedWidthTypes.Boolean, true, false), []string{"TRUE", "FALSE"}, ""},
		{"string", build(arrow.BinaryTypes.String, "plain", "it's", "' OR '1'='1", ""), []string{"'plain'", "'it''s'", "''' OR ''1''=''1'", "''"}, ""},
		{"date32", build(arrow.FixedWidthTypes.Date32, arrow.Date32(1)), nil, "type date32 is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.arr.Release()
			var got []string
			for i := 0; i < tc.arr.Len(); i++ {
				s, err := literal(tc.arr, i)
				if err != nil {
					require.Contains(t, err.Error(), tc.err)
					require.Equal(t, tc.arr.Len()-1, i, "only the last value fails")
					break
				}
				got = append(got, s)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestLike(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"%", "", true}, {"%", "abc", true}, {"a%", "abc", true}, {"a%", "bac", false},
		{"%c", "abc", true}, {"a_c", "abc", true}, {"a_c", "ac", false}, {"_", "é", true},
		{"a\\_c", "a_c", true}, {"a\\_c", "abc", false}, {"%b%", "abc", true}, {"%%d", "abc", false},
		{"ABC", "abc", true}, {"", "", true}, {"", "a", false},
	} {
		p := tc.pattern
		require.Equal(t, tc.want, like(&p, tc.s), "%q LIKE %q", tc.s, tc.pattern)
	}
	require.True(t, like(nil, "anything"))
}

func TestEmitChanges(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"SELECT a FROM t GROUP BY a WINDOW TUMBLING(ts, INTERVAL '1' MINUTE) EMIT CHANGES", true},
		{"select a from t emit changes", true},
		{"SELECT a FROM t EMIT FINAL", false},
		{"SELECT 'EMIT' AS x, 'CHANGES' AS y FROM t", false},
		{`SELECT "emit" FROM t WHERE x = 'EMIT CHANGES'`, false},
		{"SELECT a FROM t -- EMIT CHANGES", false},
	} {
		require.Equal(t, tc.want, emitChanges(tc.sql), tc.sql)
	}
}
