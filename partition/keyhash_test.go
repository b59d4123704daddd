package partition

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// stringKeyValues are utf8 keys of every length from 0 to 20 bytes (both
// sides of the 8-byte word limit), values that differ only by trailing NUL
// bytes, and non-ASCII bytes; nil entries are nulls.
func stringKeyValues() []*string {
	var vals []*string
	add := func(s string) { vals = append(vals, &s) }
	for l := range 21 {
		add(strings.Repeat(string(rune('a'+l%26)), l))
	}
	add("a\x00")
	add("a")
	add("SYM0042")
	add("SYM0042\x00")
	add("héllo wörld")
	vals = append(vals, nil)
	add("12345678")
	add("123456789")
	add("x") // the last value: its word load runs past the data buffer's end
	return vals
}

func TestStringKeyHash(t *testing.T) {
	// Every encoding of a utf8 key (plain, sliced, dictionary with each
	// index type) routes by the documented hash (stringHashOracle).
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vals := stringKeyValues()
	want := make([]uint64, len(vals))
	for i, v := range vals {
		if v == nil {
			want[i] = 0x4c4c554e6f6c6576
			continue
		}
		want[i] = stringHashOracle(*v)
	}

	sb := array.NewStringBuilder(mem)
	for _, v := range vals {
		if v == nil {
			sb.AppendNull()
		} else {
			sb.Append(*v)
		}
	}
	plain := sb.NewStringArray()
	sb.Release()
	defer plain.Release()

	// The dictionary holds the distinct non-null values in reverse order.
	db := array.NewStringBuilder(mem)
	dictPos := map[string]int{}
	for i := len(vals) - 1; i >= 0; i-- {
		if v := vals[i]; v != nil {
			if _, ok := dictPos[*v]; !ok {
				dictPos[*v] = len(dictPos)
				db.Append(*v)
			}
		}
	}
	dict := db.NewStringArray()
	db.Release()
	defer dict.Release()
	dictArray := func(it arrow.DataType) arrow.Array {
		ib := array.NewBuilder(mem, it)
		defer ib.Release()
		for _, v := range vals {
			if v == nil {
				ib.AppendNull()
				continue
			}
			k := dictPos[*v]
			switch b := ib.(type) {
			case *array.Int8Builder:
				b.Append(int8(k))
			case *array.Int16Builder:
				b.Append(int16(k))
			case *array.Int32Builder:
				b.Append(int32(k))
			case *array.Int64Builder:
				b.Append(int64(k))
			case *array.Uint8Builder:
				b.Append(uint8(k))
			case *array.Uint16Builder:
				b.Append(uint16(k))
			case *array.Uint32Builder:
				b.Append(uint32(k))
			case *array.Uint64Builder:
				b.Append(uint64(k))
			}
		}
		idx := ib.NewArray()
		defer idx.Release()
		return array.NewDictionaryArray(&arrow.DictionaryType{IndexType: it, ValueType: arrow.BinaryTypes.String}, idx, dict)
	}

	cases := []struct {
		name string
		arr  func() arrow.Array
		lo   int // the array covers vals[lo:]
	}{
		{"plain", func() arrow.Array { plain.Retain(); return plain }, 0},
		{"sliced", func() arrow.Array { return array.NewSlice(plain, 3, int64(plain.Len())) }, 3},
	}
	for _, it := range []arrow.DataType{
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
		arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64,
	} {
		cases = append(cases, struct {
			name string
			arr  func() arrow.Array
			lo   int
		}{"dict-" + it.String(), func() arrow.Array { return dictArray(it) }, 0})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.arr()
			defer a.Release()
			var h keyHasher
			got := make([]uint64, a.Len())
			require.NoError(t, h.hashColumn(got, a))
			require.Equal(t, want[tc.lo:], got)
		})
	}
}

func TestShortStringWordDistinct(t *testing.T) {
	// The length is part of the word: values equal after zero padding
	// still get different words.
	words := map[uint64]string{}
	for _, v := range []string{"", "\x00", "\x00\x00", "a", "a\x00", "a\x00\x00\x00\x00\x00\x00\x00", "SYM0042", "SYM0042\x00"} {
		w := shortStringWord([]byte(v))
		prev, dup := words[w]
		require.False(t, dup, "%q and %q share a word", v, prev)
		words[w] = v
	}
}
