package partition

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// keyHasher hashes the key columns of records with the hash kernels. Its
// scratch buffers are reused across calls, so one keyHasher belongs to one
// router (one goroutine).
type keyHasher struct {
	tmp  []uint64 // hashes of the current column before combining
	wide []uint64 // int32/bool values widened to 64 bits
	dict []uint64 // hashes of a dictionary's values
}

// hashColumns writes into dst[:rows] the hash of each row's key: the hash of
// column cols[0], folded with kernels.HashCombine with each further column.
// A key value hashes the same whatever its encoding (a dictionary-encoded
// string like the plain string, an int32 like the same int64), so batches of
// one source with different encodings route alike.
func (h *keyHasher) hashColumns(dst []uint64, rec arrow.Record, cols []int) error {
	n := int(rec.NumRows())
	for k, c := range cols {
		out := dst[:n]
		if k > 0 {
			h.tmp = grow(h.tmp, n)
			out = h.tmp[:n]
		}
		if err := h.hashColumn(out, rec.Column(c)); err != nil {
			return fmt.Errorf("partition: hash key column %q: %w", rec.Schema().Field(c).Name, err)
		}
		if k > 0 {
			kernels.HashCombine(dst[:n], out)
		}
	}
	return nil
}

// hashColumn writes the hash of each row of a into dst (len(dst) == a.Len()).
func (h *keyHasher) hashColumn(dst []uint64, a arrow.Array) error {
	valid, off := columnar.Validity(a)
	switch arr := a.(type) {
	case *array.Int64:
		kernels.HashInt64(dst, arr.Int64Values(), valid, off)
	case *array.Timestamp:
		kernels.HashTimestamp(dst, asInt64s(arr.TimestampValues()), valid, off)
	case *array.Date64:
		kernels.HashTimestamp(dst, asInt64s(arr.Date64Values()), valid, off)
	case *array.Duration:
		kernels.HashTimestamp(dst, asInt64s(arr.DurationValues()), valid, off)
	case *array.Int32:
		h.wide = grow(h.wide, len(dst))
		w := h.wide[:len(dst)]
		for i, v := range arr.Int32Values() {
			w[i] = uint64(int64(v))
		}
		kernels.HashUint64(dst, w, valid, off)
	case *array.Float64:
		kernels.HashFloat64(dst, arr.Float64Values(), valid, off)
	case *array.Boolean:
		h.wide = grow(h.wide, len(dst))
		w := h.wide[:len(dst)]
		bits, boff, err := columnar.BoolBits(arr)
		if err != nil {
			return err
		}
		for i := range w {
			w[i] = 0
			if bits != nil && bitutil.BitIsSet(bits, boff+i) {
				w[i] = 1
			}
		}
		kernels.HashUint64(dst, w, valid, off)
	case *array.String:
		offsets, data, err := columnar.StringData(arr)
		if err != nil {
			return err
		}
		kernels.HashStrings(dst, offsets[:len(dst)+1], data, valid, off)
	case *array.Dictionary:
		dict, ok := arr.Dictionary().(*array.String)
		if !ok {
			return fmt.Errorf("dictionary of %s keys is not supported (want utf8 values)", arr.Dictionary().DataType())
		}
		offsets, data, err := columnar.StringData(dict)
		if err != nil {
			return err
		}
		h.dict = grow(h.dict, dict.Len())
		dv, doff := columnar.Validity(dict)
		kernels.HashStrings(h.dict[:dict.Len()], offsets, data, dv, doff)
		for i := range dst {
			if valid != nil && !bitutil.BitIsSet(valid, off+i) {
				dst[i] = kernels.NullHash
				continue
			}
			dst[i] = h.dict[arr.GetValueIndex(i)]
		}
	default:
		return fmt.Errorf("type %s cannot be a partitioning key (want int64, int32, float64, timestamp, bool, utf8 or dictionary<utf8>)", a.DataType())
	}
	return nil
}

// asInt64s reinterprets a slice of an int64-based Arrow type (timestamp,
// date64, duration) as []int64 without copying.
func asInt64s[T ~int64](s []T) []int64 {
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// grow returns s with length at least n, reallocating when needed.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
