package partition

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/cespare/xxhash/v2"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// keyHasher hashes the key columns of records with the hash kernels. Its
// scratch buffers are reused across calls, so one keyHasher belongs to one
// router (one goroutine).
type keyHasher struct {
	tmp   []uint64 // hashes of the current column before combining
	wide  []uint64 // int32/bool values widened to 64 bits
	words []uint64 // short strings as words (hashStrings)
	dict  []uint64 // hashes of a dictionary's values
}

// hashColumns writes into dst[:rows] the hash of each row's key: the hash of
// column cols[0], folded with kernels.HashCombine with each further column.
// A key value hashes the same whatever its encoding (a dictionary-encoded
// string like the plain string, an int32 like the same int64), so batches of
// one source with different encodings route alike. Fixed-width keys hash
// with the kernels' xxhash contract; utf8 keys as described at hashStrings
// (routing only needs one value to map to one partition, so short strings
// take the cheaper word hash).
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
		h.hashStrings(dst, offsets[:len(dst)+1], data, valid, off)
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
		h.hashStrings(h.dict[:dict.Len()], offsets, data, dv, doff)
		if err := gatherDictHashes(dst, h.dict[:dict.Len()], arr.Indices(), valid, off); err != nil {
			return err
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

// strLenMix folds a short string's length into its word, so that "a" and
// "a\x00" (the same bytes once zero-padded) usually hash apart: it is the
// 64-bit golden ratio, an odd constant.
const strLenMix uint64 = 0x9E3779B97F4A7C15

// shortStringWord is the word a utf8 value of at most 8 bytes is routed by:
// its bytes read as a little-endian uint64 (zero-padded) XOR its length ×
// strLenMix. It is the reference for hashStrings' fast loop.
func shortStringWord(v []byte) uint64 {
	var buf [8]byte
	copy(buf[:], v)
	return binary.LittleEndian.Uint64(buf[:]) ^ uint64(len(v))*strLenMix
}

// hashStrings writes the routing hash of each utf8 value (value i is
// data[offsets[i]:offsets[i+1]]) into dst, with len(offsets) ==
// len(dst)+1. A value of at most 8 bytes hashes as one word,
// kernels.HashUint64(shortStringWord(v)) — the vectorised fixed-width
// kernel instead of a byte hash per value; a longer value hashes as
// xxhash.Sum64 of its bytes. The choice depends only on the value, and the
// word is assembled with explicit little-endian loads, so every batch,
// source, encoding (plain or dictionary) and platform routes a value alike.
// Rows whose validity bit is clear get kernels.NullHash.
func (h *keyHasher) hashStrings(dst []uint64, offsets []int32, data []byte, valid []byte, off int) {
	n := len(dst)
	if n == 0 {
		return
	}
	h.words = grow(h.words, n)
	w := h.words[:n]
	offsets = offsets[:n+1]
	maxLen := stringWords(w, offsets, data)
	kernels.HashUint64(dst, w, valid, off)
	if maxLen <= 8 {
		return
	}
	for i := range dst {
		s, e := offsets[i], offsets[i+1]
		if e-s > 8 && (valid == nil || bitutil.BitIsSet(valid, off+i)) {
			dst[i] = xxhash.Sum64(data[s:e])
		}
	}
}

// stringWords sets w[i] to shortStringWord of value i for the values of at
// most 8 bytes (w[i] is meaningless for longer ones) and returns the
// largest value length. len(offsets) must be len(w)+1.
func stringWords(w []uint64, offsets []int32, data []byte) (maxLen uint) {
	offsets = offsets[:len(w)+1]
	// Values from lim on start less than 8 bytes before the end of data:
	// their word is assembled byte by byte (offsets never decrease).
	lim := len(w)
	for lim > 0 && int(offsets[lim-1])+8 > len(data) {
		lim--
	}
	maxLen = wordsInBounds(w[:lim], offsets[:lim+1], data)
	for i := lim; i < len(w); i++ {
		s, e := uint(offsets[i]), uint(offsets[i+1])
		var buf [8]byte
		if e > s {
			copy(buf[:], data[s:e])
		}
		l := e - s
		w[i] = binary.LittleEndian.Uint64(buf[:]) ^ uint64(l)*strLenMix
		maxLen = max(maxLen, l)
	}
	return maxLen
}

// wordsInBounds is stringWords for values whose 8-byte load from their
// first byte stays inside data: one little-endian load masked to the
// value's own bytes (lenMask; values of 8 bytes or more keep the word).
// It is not inlined: on its own the loop keeps every variable in a
// register.
//
//go:noinline
func wordsInBounds(w []uint64, offsets []int32, data []byte) (maxLen uint) {
	offsets = offsets[:len(w)+1]
	for i := range w {
		s, e := uint(offsets[i]), uint(offsets[i+1])
		l := e - s
		x := binary.LittleEndian.Uint64(data[s:s+8:s+8]) & lenMask[min(l, 8)]
		w[i] = x ^ uint64(l)*strLenMix
		maxLen = max(maxLen, l)
	}
	return maxLen
}

// lenMask[l] keeps the low l bytes of a little-endian word.
var lenMask = [9]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff, 0xffffffffffffffff}

// gatherDictHashes sets dst[i] to the hash of row i's dictionary value,
// dictHashes[indices[i]], or kernels.NullHash for a null row.
func gatherDictHashes(dst, dictHashes []uint64, indices arrow.Array, valid []byte, off int) error {
	switch ix := indices.(type) {
	case *array.Int8:
		return gatherHashes(dst, dictHashes, ix.Int8Values(), valid, off)
	case *array.Int16:
		return gatherHashes(dst, dictHashes, ix.Int16Values(), valid, off)
	case *array.Int32:
		return gatherHashes(dst, dictHashes, ix.Int32Values(), valid, off)
	case *array.Int64:
		return gatherHashes(dst, dictHashes, ix.Int64Values(), valid, off)
	case *array.Uint8:
		return gatherHashes(dst, dictHashes, ix.Uint8Values(), valid, off)
	case *array.Uint16:
		return gatherHashes(dst, dictHashes, ix.Uint16Values(), valid, off)
	case *array.Uint32:
		return gatherHashes(dst, dictHashes, ix.Uint32Values(), valid, off)
	case *array.Uint64:
		return gatherHashes(dst, dictHashes, ix.Uint64Values(), valid, off)
	}
	return fmt.Errorf("dictionary index type %s is not supported", indices.DataType())
}

func gatherHashes[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](dst, dictHashes []uint64, idx []T, valid []byte, off int) error {
	idx = idx[:len(dst)]
	for i, k := range idx {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			dst[i] = kernels.NullHash
			continue
		}
		if uint64(k) >= uint64(len(dictHashes)) {
			return fmt.Errorf("dictionary index %d at row %d is outside the dictionary of %d values", k, i, len(dictHashes))
		}
		dst[i] = dictHashes[k]
	}
	return nil
}

// checkKeyType reports whether hashColumn can hash columns of type dt, with
// the error hashColumn would return: Push checks the key columns' types
// when it first sees a schema, so an unsupported key fails there (also when
// router goroutines do the hashing).
func checkKeyType(dt arrow.DataType) error {
	switch t := dt.(type) {
	case *arrow.Int64Type, *arrow.TimestampType, *arrow.Date64Type, *arrow.DurationType,
		*arrow.Int32Type, *arrow.Float64Type, *arrow.BooleanType, *arrow.StringType:
		return nil
	case *arrow.DictionaryType:
		if t.ValueType.ID() != arrow.STRING {
			return fmt.Errorf("dictionary of %s keys is not supported (want utf8 values)", t.ValueType)
		}
		return nil
	}
	return fmt.Errorf("type %s cannot be a partitioning key (want int64, int32, float64, timestamp, bool, utf8 or dictionary<utf8>)", dt)
}
