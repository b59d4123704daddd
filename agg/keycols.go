package agg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// keyColumn is one column of a KeyTable's composite key: it stores the key
// values of every group and prepares each probe batch's column so rows can
// be hashed and compared against groups with the kernels.
type keyColumn interface {
	// load prepares column arr of the batch being probed.
	load(arr arrow.Array) error
	// hash writes the batch's row hashes into h (first column) or folds them
	// into h with kernels.HashCombine; scratch has room for every row.
	hash(h, scratch []uint64, first bool)
	// equal sets, for every row r in sel, bit r of eq to whether row r's key
	// equals the key of group cand[r]; every other bit of eq is cleared.
	equal(eq []byte, cand []uint32, sel []int32, n int)
	// appendRow stores row r of the loaded batch as the key of a new group.
	appendRow(r int)
	// emit builds the key values of the groups ids (nil: every group).
	emit(mem memory.Allocator, ids []uint32) arrow.Array
	// compact keeps only groups keep (new group j = old group keep[j]).
	compact(keep []uint32)
	reset()
	// bytes is the memory held for the stored keys.
	bytes() int
}

func newKeyColumn(dt arrow.DataType) (keyColumn, error) {
	switch dt.ID() {
	case arrow.INT64, arrow.TIMESTAMP, arrow.INT32, arrow.FLOAT64, arrow.FLOAT32,
		arrow.BOOL, arrow.DATE32, arrow.DATE64, arrow.DURATION:
		return &wordKey{dt: dt}, nil
	case arrow.STRING:
		return &stringKey{}, nil
	case arrow.DICTIONARY:
		d := dt.(*arrow.DictionaryType)
		if d.ValueType.ID() != arrow.STRING {
			return nil, fmt.Errorf("dictionary key of %s values is not supported (only utf8)", d.ValueType)
		}
		return &stringKey{dict: true}, nil
	}
	return nil, fmt.Errorf("type %s cannot be a group key (supported: int64, int32, float64, float32, timestamp, date, bool, utf8, dictionary<utf8>)", dt)
}

// validityOf returns an array's validity bitmap and bit offset, or nil when
// the array has no nulls.
func validityOf(arr arrow.Array) ([]byte, int) {
	if arr.NullN() == 0 {
		return nil, 0
	}
	return arr.NullBitmapBytes(), arr.Data().Offset()
}

func isNull(valid []byte, off, r int) bool {
	return valid != nil && !bitutil.BitIsSet(valid, off+r)
}

// fixNullEquality corrects eq for rows where the row or its candidate group
// holds NULL: NULL equals NULL and nothing else (the key words of NULLs are
// meaningless).
func fixNullEquality(eq []byte, cand []uint32, sel []int32, valid []byte, off int, groupNull []bool, anyGroupNull bool) {
	if valid == nil && !anyGroupNull {
		return
	}
	for _, r := range sel {
		rn := isNull(valid, off, int(r))
		gn := anyGroupNull && groupNull[cand[r]]
		if rn || gn {
			if rn && gn {
				bitutil.SetBit(eq, int(r))
			} else {
				bitutil.ClearBit(eq, int(r))
			}
		}
	}
}

// wordKey stores fixed-width keys as one 64-bit word per group: integers
// sign-extended, bools as 0/1, floats as their canonical bits (-0.0 as +0.0,
// every NaN as kernels.CanonicalNaNBits), so key equality is word equality
// and matches SQL grouping (NaN groups with NaN, -0.0 with 0.0).
type wordKey struct {
	dt arrow.DataType
	// stored keys
	words     []int64
	nulls     []bool
	nullCount int
	// current batch
	row     []int64
	scratch []int64
	valid   []byte
	off     int
}

func int64View[T ~int64](v []T) []int64 {
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
}

func canonicalFloatBits(f float64) int64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return int64(kernels.CanonicalNaNBits)
	}
	return int64(math.Float64bits(f))
}

func (k *wordKey) load(arr arrow.Array) error {
	switch a := arr.(type) {
	case *array.Float64:
		w := resize(k.scratch, a.Len())
		k.scratch = w
		for i, v := range a.Float64Values() {
			w[i] = canonicalFloatBits(v)
		}
		k.row = w
	case *array.Float32:
		w := resize(k.scratch, a.Len())
		k.scratch = w
		for i, v := range a.Float32Values() {
			w[i] = canonicalFloatBits(float64(v))
		}
		k.row = w
	case *array.Int64, *array.Timestamp, *array.Date64, *array.Duration, *array.Int32, *array.Date32, *array.Boolean:
		k.row = intValues(arr, &k.scratch)
	default:
		return fmt.Errorf("got %s, want %s", arr.DataType(), k.dt)
	}
	k.valid, k.off = validityOf(arr)
	return nil
}

func (k *wordKey) hash(h, scratch []uint64, first bool) {
	dst := h
	if !first {
		dst = scratch[:len(h)]
	}
	kernels.HashInt64(dst, k.row[:len(h)], k.valid, k.off)
	if !first {
		kernels.HashCombine(h, dst)
	}
}

func (k *wordKey) equal(eq []byte, cand []uint32, sel []int32, n int) {
	kernels.ProbeEqInt64Sel(eq, k.row[:n], k.words, cand[:n], sel)
	fixNullEquality(eq, cand, sel, k.valid, k.off, k.nulls, k.nullCount > 0)
}

func (k *wordKey) appendRow(r int) {
	if isNull(k.valid, k.off, r) {
		k.words = append(k.words, 0)
		k.nulls = append(k.nulls, true)
		k.nullCount++
		return
	}
	k.words = append(k.words, k.row[r])
	k.nulls = append(k.nulls, false)
}

func (k *wordKey) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return emitGroups(mem, k.dt, len(k.words), ids, func(b array.Builder, g int) {
		if k.nulls[g] {
			b.AppendNull()
			return
		}
		w := k.words[g]
		switch bb := b.(type) {
		case *array.Float64Builder:
			bb.Append(math.Float64frombits(uint64(w)))
		case *array.Float32Builder:
			bb.Append(float32(math.Float64frombits(uint64(w))))
		default:
			appendWord(b, w)
		}
	})
}

func (k *wordKey) compact(keep []uint32) {
	words := make([]int64, len(keep))
	nulls := make([]bool, len(keep))
	k.nullCount = 0
	for j, g := range keep {
		words[j], nulls[j] = k.words[g], k.nulls[g]
		if nulls[j] {
			k.nullCount++
		}
	}
	k.words, k.nulls = words, nulls
}

func (k *wordKey) reset() {
	k.words, k.nulls, k.nullCount = k.words[:0], k.nulls[:0], 0
}

func (k *wordKey) bytes() int { return cap(k.words)*8 + cap(k.nulls) }

// stringKey stores utf8 keys: per group its first 8 bytes as a little-endian
// word (zero-padded; compared with the probe kernel to reject most
// mismatches), and the whole string in an arena. Dictionary-encoded columns
// are decoded per dictionary: each distinct dictionary is hashed once per
// entry, and rows gather from the entry-level hashes and words.
type stringKey struct {
	dict bool
	// stored keys: group g is arena[offs[g]:offs[g+1]]
	prefix    []int64
	offs      []int32
	arena     []byte
	nulls     []bool
	nullCount int
	// current batch (for dictionaries: the row→entry indices and the
	// entries' strings)
	offsets []int32
	data    []byte
	idx     []int32 // dictionary indices of the rows (nil: plain utf8)
	row     []int64 // per-row prefix words
	valid   []byte
	off     int
	// dictionary memo: entry-level prefixes and hashes of the last dictionary
	lastDict    arrow.Array
	dictPrefix  []int64
	dictHash    []uint64
	dictOffsets []int32
	dictData    []byte
}

// prefixWord reads up to 8 bytes of s little-endian, zero-padded, without
// reading past data's end.
func prefixWord(data []byte, start, end int32) int64 {
	l := end - start
	if l >= 8 {
		return int64(binary.LittleEndian.Uint64(data[start:]))
	}
	if int(start)+8 <= len(data) {
		w := binary.LittleEndian.Uint64(data[start:])
		return int64(w & (1<<(8*uint(l)) - 1))
	}
	var w uint64
	for i := l - 1; i >= 0; i-- {
		w = w<<8 | uint64(data[start+i])
	}
	return int64(w)
}

func (k *stringKey) load(arr arrow.Array) error {
	n := arr.Len()
	if cap(k.row) < n {
		k.row = make([]int64, n)
	}
	k.row = k.row[:n]
	k.valid, k.off = validityOf(arr)
	switch a := arr.(type) {
	case *array.String:
		k.idx = nil
		k.offsets, k.data, _ = columnar.StringData(a)
		for i := range k.row {
			k.row[i] = prefixWord(k.data, k.offsets[i], k.offsets[i+1])
		}
		if k.valid != nil {
			for i := range k.row {
				if isNull(k.valid, k.off, i) {
					k.row[i] = 0
				}
			}
		}
	case *array.Dictionary:
		dv, ok := a.Dictionary().(*array.String)
		if !ok {
			return fmt.Errorf("got dictionary of %s, want dictionary of utf8", a.Dictionary().DataType())
		}
		if err := k.loadDictionary(dv); err != nil {
			return err
		}
		if cap(k.idx) < n {
			k.idx = make([]int32, n)
		}
		k.idx = k.idx[:n]
		for i := range k.idx {
			if isNull(k.valid, k.off, i) {
				k.idx[i], k.row[i] = 0, 0
				continue
			}
			e := a.GetValueIndex(i)
			k.idx[i] = int32(e)
			k.row[i] = k.dictPrefix[e]
		}
		k.offsets, k.data = k.dictOffsets, k.dictData
	default:
		return fmt.Errorf("got %s, want utf8", arr.DataType())
	}
	return nil
}

// loadDictionary prepares entry-level prefixes and hashes, once per distinct
// dictionary array (a stable dictionary costs nothing per batch).
func (k *stringKey) loadDictionary(dv *array.String) error {
	if k.lastDict == arrow.Array(dv) {
		return nil
	}
	m := dv.Len()
	k.dictOffsets, k.dictData, _ = columnar.StringData(dv)
	k.dictPrefix = make([]int64, m)
	for e := 0; e < m; e++ {
		k.dictPrefix[e] = prefixWord(k.dictData, k.dictOffsets[e], k.dictOffsets[e+1])
	}
	k.dictHash = make([]uint64, m)
	kernels.HashInt64(k.dictHash, k.dictPrefix, nil, 0)
	for e := 0; e < m; e++ {
		if s, t := k.dictOffsets[e], k.dictOffsets[e+1]; t-s > 8 {
			k.dictHash[e] = xxhash.Sum64(k.dictData[s:t])
		}
	}
	k.lastDict = dv
	return nil
}

func (k *stringKey) rowRange(r int) (int32, int32) {
	e := r
	if k.idx != nil {
		e = int(k.idx[r])
	}
	return k.offsets[e], k.offsets[e+1]
}

// hash: a string of at most 8 bytes hashes as its prefix word (an 8-byte
// key, vectorized by kernels.HashInt64); a longer one as xxhash of its
// bytes. Each value always hashes the same way, which is all the table
// needs; short strings that differ only by trailing NUL bytes share a hash
// and are told apart by the length comparison.
func (k *stringKey) hash(h, scratch []uint64, first bool) {
	n := len(h)
	dst := h
	if !first {
		dst = scratch[:n]
	}
	if k.idx == nil {
		kernels.HashInt64(dst, k.row[:n], nil, 0)
		offs := k.offsets
		for i := range dst {
			if offs[i+1]-offs[i] > 8 {
				dst[i] = xxhash.Sum64(k.data[offs[i]:offs[i+1]])
			}
		}
	} else {
		for i, e := range k.idx[:n] {
			dst[i] = k.dictHash[e]
		}
	}
	if k.valid != nil {
		for i := range dst {
			if isNull(k.valid, k.off, i) {
				dst[i] = kernels.NullHash
			}
		}
	}
	if !first {
		kernels.HashCombine(h, dst)
	}
}

func (k *stringKey) equal(eq []byte, cand []uint32, sel []int32, n int) {
	kernels.ProbeEqInt64Sel(eq, k.row[:n], k.prefix, cand[:n], sel)
	for _, r := range sel {
		if !bitutil.BitIsSet(eq, int(r)) {
			continue
		}
		s, e := k.rowRange(int(r))
		g := cand[r]
		gs, ge := k.offs[g], k.offs[g+1]
		if e-s != ge-gs || (e-s > 8 && !bytes.Equal(k.data[s+8:e], k.arena[gs+8:ge])) {
			bitutil.ClearBit(eq, int(r))
		}
	}
	fixNullEquality(eq, cand, sel, k.valid, k.off, k.nulls, k.nullCount > 0)
}

func (k *stringKey) appendRow(r int) {
	if len(k.offs) == 0 {
		k.offs = append(k.offs, 0)
	}
	if isNull(k.valid, k.off, r) {
		k.prefix = append(k.prefix, 0)
		k.nulls = append(k.nulls, true)
		k.nullCount++
	} else {
		s, e := k.rowRange(r)
		k.arena = append(k.arena, k.data[s:e]...)
		k.prefix = append(k.prefix, k.row[r])
		k.nulls = append(k.nulls, false)
	}
	k.offs = append(k.offs, int32(len(k.arena)))
}

func (k *stringKey) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return emitGroups(mem, arrow.BinaryTypes.String, len(k.prefix), ids, func(b array.Builder, g int) {
		if k.nulls[g] {
			b.AppendNull()
		} else {
			b.(*array.StringBuilder).BinaryBuilder.Append(k.arena[k.offs[g]:k.offs[g+1]])
		}
	})
}

func (k *stringKey) compact(keep []uint32) {
	prefix := make([]int64, len(keep))
	nulls := make([]bool, len(keep))
	offs := make([]int32, 1, len(keep)+1)
	var arena []byte
	k.nullCount = 0
	for j, g := range keep {
		prefix[j], nulls[j] = k.prefix[g], k.nulls[g]
		if nulls[j] {
			k.nullCount++
		}
		arena = append(arena, k.arena[k.offs[g]:k.offs[g+1]]...)
		offs = append(offs, int32(len(arena)))
	}
	k.prefix, k.nulls, k.offs, k.arena = prefix, nulls, offs, arena
}

func (k *stringKey) reset() {
	k.prefix, k.nulls, k.offs, k.arena, k.nullCount = k.prefix[:0], k.nulls[:0], k.offs[:0], k.arena[:0], 0
}

func (k *stringKey) bytes() int {
	return cap(k.prefix)*8 + cap(k.nulls) + cap(k.offs)*4 + cap(k.arena)
}
