package agg

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Readers that present an input column as the slice type an aggregate state
// works on: int-like columns as []int64 (zero-copy for 64-bit types), float
// columns (and, for AVG/VAR, integers) as []float64.

// isIntLike reports whether values of dt are integers held as int64 words.
func isIntLike(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT64, arrow.INT32, arrow.TIMESTAMP, arrow.DATE32, arrow.DATE64, arrow.DURATION:
		return true
	}
	return false
}

func isFloat(dt arrow.DataType) bool {
	return dt.ID() == arrow.FLOAT64 || dt.ID() == arrow.FLOAT32
}

func isNumeric(dt arrow.DataType) bool {
	return dt.ID() == arrow.INT64 || dt.ID() == arrow.INT32 || isFloat(dt)
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// intValues returns the values of an int-like or bool column as int64s.
func intValues(arr arrow.Array, scratch *[]int64) []int64 {
	switch a := arr.(type) {
	case *array.Int64:
		return a.Int64Values()
	case *array.Timestamp:
		return int64View(a.TimestampValues())
	case *array.Date64:
		return int64View(a.Date64Values())
	case *array.Duration:
		return int64View(a.DurationValues())
	case *array.Int32:
		w := resize(*scratch, a.Len())
		for i, v := range a.Int32Values() {
			w[i] = int64(v)
		}
		*scratch = w
		return w
	case *array.Date32:
		w := resize(*scratch, a.Len())
		for i, v := range a.Date32Values() {
			w[i] = int64(v)
		}
		*scratch = w
		return w
	case *array.Boolean:
		w := resize(*scratch, a.Len())
		for i := range w {
			w[i] = 0
			if a.Value(i) {
				w[i] = 1
			}
		}
		*scratch = w
		return w
	}
	panic(fmt.Sprintf("agg: intValues of %s", arr.DataType()))
}

// floatValues returns a numeric column's values as float64s.
func floatValues(arr arrow.Array, scratch *[]float64) []float64 {
	switch a := arr.(type) {
	case *array.Float64:
		return a.Float64Values()
	case *array.Float32:
		w := resize(*scratch, a.Len())
		for i, v := range a.Float32Values() {
			w[i] = float64(v)
		}
		*scratch = w
		return w
	case *array.Int64:
		w := resize(*scratch, a.Len())
		for i, v := range a.Int64Values() {
			w[i] = float64(v)
		}
		*scratch = w
		return w
	case *array.Int32:
		w := resize(*scratch, a.Len())
		for i, v := range a.Int32Values() {
			w[i] = float64(v)
		}
		*scratch = w
		return w
	}
	panic(fmt.Sprintf("agg: floatValues of %s", arr.DataType()))
}

// rowsOf returns the rows to visit: sel, or 0..n-1 from a cached identity.
func rowsOf(n int, sel []int32, iota *[]int32) []int32 {
	if sel != nil {
		return sel
	}
	if len(*iota) < n {
		*iota = make([]int32, n+n/4)
		for i := range *iota {
			(*iota)[i] = int32(i)
		}
	}
	return (*iota)[:n]
}

// appendWord appends int64 word w to builder b as b's type.
func appendWord(b array.Builder, w int64) {
	switch bb := b.(type) {
	case *array.Int64Builder:
		bb.Append(w)
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(w))
	case *array.Date64Builder:
		bb.Append(arrow.Date64(w))
	case *array.DurationBuilder:
		bb.Append(arrow.Duration(w))
	case *array.Int32Builder:
		bb.Append(int32(w))
	case *array.Date32Builder:
		bb.Append(arrow.Date32(w))
	case *array.BooleanBuilder:
		bb.Append(w != 0)
	default:
		panic(fmt.Sprintf("agg: appendWord to %T", b))
	}
}

// emitGroups builds an array of type dt with one entry per emitted group:
// groups ids in that order, or every group 0..n-1 when ids is nil.
// appendGroup appends group g's value (or a NULL) to b, a builder of dt.
func emitGroups(mem memory.Allocator, dt arrow.DataType, n int, ids []uint32, appendGroup func(b array.Builder, g int)) arrow.Array {
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	if ids == nil {
		b.Reserve(n)
		for g := 0; g < n; g++ {
			appendGroup(b, g)
		}
	} else {
		b.Reserve(len(ids))
		for _, g := range ids {
			appendGroup(b, int(g))
		}
	}
	return b.NewArray()
}

// buildInt64 builds an int64 array of val(g) per emitted group of n (see
// emitGroups), NULL where null(g) is true (null may be nil).
func buildInt64(mem memory.Allocator, n int, ids []uint32, val func(g int) int64, null func(g int) bool) arrow.Array {
	return emitGroups(mem, arrow.PrimitiveTypes.Int64, n, ids, func(b array.Builder, g int) {
		if null != nil && null(g) {
			b.AppendNull()
		} else {
			b.(*array.Int64Builder).Append(val(g))
		}
	})
}

// buildFloat64 is buildInt64 for float64 values.
func buildFloat64(mem memory.Allocator, n int, ids []uint32, val func(g int) float64, null func(g int) bool) arrow.Array {
	return emitGroups(mem, arrow.PrimitiveTypes.Float64, n, ids, func(b array.Builder, g int) {
		if null != nil && null(g) {
			b.AppendNull()
		} else {
			b.(*array.Float64Builder).Append(val(g))
		}
	})
}

// compactSlice returns s reordered to s[keep[0]], s[keep[1]], ….
func compactSlice[T any](s []T, keep []uint32) []T {
	out := make([]T, len(keep))
	for j, g := range keep {
		out[j] = s[g]
	}
	return out
}
