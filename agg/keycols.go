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
	// word returns group g's key word: equal keys have equal words (for a
	// wordKey, and a stringKey's NULL and strings of up to 7 bytes, the
	// converse holds too).
	word(g uint32) int64
	// emit builds the key values of the groups ids (nil: every group).
	emit(mem memory.Allocator, ids []uint32) arrow.Array
	// compact keeps only groups keep (new group j = old group keep[j]).
	compact(keep []uint32)
	reset()
	// bytes is the memory held for the stored keys.
	bytes() int
}

// KeyTypes lists the key column types a KeyTable (and a KeyHasher) takes.
const KeyTypes = "int64, int32, float64, float32, timestamp, date, duration, bool, utf8, dictionary<utf8>"

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
	return nil, fmt.Errorf("type %s cannot be a group key (supported: %s)", dt, KeyTypes)
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

func (k *wordKey) word(g uint32) int64 { return k.words[g] }

func (k *wordKey) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	if isWordType(k.dt) { // a float64 key's word is its bits
		return wordArray(mem, k.dt, len(k.words), ids, nullRule{flags: k.nulls}, func(out []int64) {
			gatherGroups(out, k.words, ids)
		})
	}
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

// stringKey stores utf8 keys as one 64-bit key word per group (see
// stringWord) plus the whole string in an arena. For a string of at most 7
// bytes, and for NULL, the key word is the whole key, so those compare as
// one word like a wordKey; a longer string's word holds its first 7 bytes
// and only strings of equal word also compare length and the remaining
// bytes. Dictionary-encoded columns are decoded per dictionary: each
// distinct dictionary is hashed once per entry, and rows gather from the
// entry-level hashes and words.
type stringKey struct {
	dict bool
	// stored keys: group g has key word words[g] and, unless NULL, the
	// string arena[offs[g]:offs[g+1]]
	words []int64
	offs  []int32
	arena []byte
	// current batch (for dictionaries: the row→entry indices and the
	// entries' strings)
	offsets []int32
	data    []byte
	idx     []int32 // dictionary indices of the rows (nil: plain utf8)
	row     []int64 // per-row key words: buf, or a KeyHasher's (loadWords)
	buf     []int64
	long    bool // some row's word is a long string's (stringLongTag)
	valid   []byte
	off     int
	// dictionary memo: entry-level words and hashes of the last dictionary
	lastDict    arrow.Array
	dictWords   []int64
	dictHash    []uint64
	dictLong    bool
	dictOffsets []int32
	dictData    []byte
}

// Key words of utf8 keys: the top byte says what the low 7 bytes hold.
// 0–7: a string of that many bytes, little-endian, zero-padded (the whole
// key); stringLongTag>>56: the first 7 bytes of a longer string; 0xFF:
// NULL (low bytes zero). Equal keys have equal words, and for strings of up
// to 7 bytes and NULL the converse holds too: no two of them share a word,
// and none shares a word with a longer string.
const (
	stringLongTag  = 8 << 56
	stringNullWord = -1 << 56
	low7           = 1<<56 - 1
)

// stringWord returns the key word of data[start:end], reading 8 bytes at
// once where data has them.
func stringWord(data []byte, start, end int32) int64 {
	l := uint64(end - start)
	var w uint64
	if int(start)+8 <= len(data) {
		w = binary.LittleEndian.Uint64(data[start:])
	} else {
		for i := min(int32(l), 8) - 1; i >= 0; i-- {
			w = w<<8 | uint64(data[start+i])
		}
	}
	return int64(w&(1<<(8*min(l, 7))-1) | min(l, 8)<<56)
}

// isLongWord reports whether key word w is a string of 8 or more bytes.
func isLongWord(w int64) bool { return uint64(w)>>56 == stringLongTag>>56 }

// stringWords sets row[i] to the key word of string i of offsets/data and
// reports whether any is longer than 7 bytes.
func stringWords(row []int64, offsets []int32, data []byte) (long bool) {
	offsets = offsets[:len(row)+1]
	var maxLen int32
	i := 0
	if len(data) >= 8 {
		// Rows whose 8-byte read stays inside data: no bounds checks.
		base := unsafe.Pointer(unsafe.SliceData(data))
		limit := int32(len(data) - 8)
		for ; i < len(row); i++ {
			s, e := offsets[i], offsets[i+1]
			if s > limit || s < 0 {
				break
			}
			l := uint64(e - s)
			maxLen = max(maxLen, e-s)
			w := *(*uint64)(unsafe.Add(base, s)) // little-endian hosts only (amd64, arm64)
			row[i] = int64(w&(1<<(8*min(l, 7))-1) | min(l, 8)<<56)
		}
	}
	for ; i < len(row); i++ {
		s, e := offsets[i], offsets[i+1]
		maxLen = max(maxLen, e-s)
		row[i] = stringWord(data, s, e)
	}
	return maxLen > 7
}

func (k *stringKey) load(arr arrow.Array) error {
	n := arr.Len()
	if cap(k.buf) < n {
		k.buf = make([]int64, n)
	}
	k.row = k.buf[:n]
	k.valid, k.off = validityOf(arr)
	switch a := arr.(type) {
	case *array.String:
		k.idx = nil
		k.offsets, k.data, _ = columnar.StringData(a)
		k.long = stringWords(k.row, k.offsets, k.data)
		if k.valid != nil {
			for i := range k.row {
				if isNull(k.valid, k.off, i) {
					k.row[i] = stringNullWord
				}
			}
		}
	case *array.Dictionary:
		dv, ok := a.Dictionary().(*array.String)
		if !ok {
			return fmt.Errorf("got dictionary of %s, want dictionary of utf8", a.Dictionary().DataType())
		}
		k.loadDictionary(dv)
		if cap(k.idx) < n {
			k.idx = make([]int32, n)
		}
		k.idx = k.idx[:n]
		if err := k.loadIndices(a.Indices()); err != nil {
			return err
		}
		k.offsets, k.data, k.long = k.dictOffsets, k.dictData, k.dictLong
	default:
		return fmt.Errorf("got %s, want utf8", arr.DataType())
	}
	return nil
}

// loadIndices sets k.idx and k.row from a dictionary's index array
// (validity k.valid/k.off): one typed loop per index type. An index outside
// the dictionary is an error, not a crash.
func (k *stringKey) loadIndices(ix arrow.Array) error {
	switch ix := ix.(type) {
	case *array.Int8:
		return dictRows(k, ix.Int8Values())
	case *array.Int16:
		return dictRows(k, ix.Int16Values())
	case *array.Int32:
		return dictRows(k, ix.Int32Values())
	case *array.Int64:
		return dictRows(k, ix.Int64Values())
	case *array.Uint8:
		return dictRows(k, ix.Uint8Values())
	case *array.Uint16:
		return dictRows(k, ix.Uint16Values())
	case *array.Uint32:
		return dictRows(k, ix.Uint32Values())
	case *array.Uint64:
		return dictRows(k, ix.Uint64Values())
	}
	return fmt.Errorf("dictionary index type %s is not supported", ix.DataType())
}

func dictRows[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](k *stringKey, idx []T) error {
	idx = idx[:len(k.idx)]
	words := k.dictWords
	for i, e := range idx {
		if isNull(k.valid, k.off, i) {
			k.idx[i], k.row[i] = 0, stringNullWord
			continue
		}
		if uint64(e) >= uint64(len(words)) {
			return fmt.Errorf("dictionary index %d at row %d is outside the dictionary of %d values", e, i, len(words))
		}
		k.idx[i] = int32(e)
		k.row[i] = words[e]
	}
	return nil
}

// loadWords is load for a plain utf8 column whose key words (NULLs
// included) a KeyHasher already computed: row words, long whether any
// is a long string's. A dictionary-encoded column loads as usual (its
// rows' dictionary indices are needed anyway).
func (k *stringKey) loadWords(arr arrow.Array, words []int64, long bool) error {
	a, ok := arr.(*array.String)
	if !ok || len(words) != a.Len() {
		return k.load(arr)
	}
	k.valid, k.off = validityOf(arr)
	k.idx = nil
	k.offsets, k.data, _ = columnar.StringData(a)
	k.row, k.long = words, long
	return nil
}

// loadDictionary prepares entry-level words and hashes, once per distinct
// dictionary array (a stable dictionary costs nothing per batch).
func (k *stringKey) loadDictionary(dv *array.String) {
	if k.lastDict == arrow.Array(dv) {
		return
	}
	m := dv.Len()
	k.dictOffsets, k.dictData, _ = columnar.StringData(dv)
	k.dictWords = make([]int64, m)
	k.dictLong = stringWords(k.dictWords, k.dictOffsets, k.dictData)
	k.dictHash = make([]uint64, m)
	k.hashWords(k.dictHash, k.dictWords, k.dictOffsets, k.dictData, nil, 0, k.dictLong)
	k.lastDict = dv
}

func (k *stringKey) rowRange(r int) (int32, int32) {
	e := r
	if k.idx != nil {
		e = int(k.idx[r])
	}
	return k.offsets[e], k.offsets[e+1]
}

// hashWords hashes strings by their key words: a string of at most 7 bytes
// as its key word (an 8-byte key, vectorized by kernels.HashInt64), a
// longer one (long: there may be some) as xxhash of its bytes, NULL (valid
// bit clear) as kernels.NullHash. Each value always hashes the same way,
// which is all the table needs.
func (k *stringKey) hashWords(dst []uint64, words []int64, offs []int32, data []byte, valid []byte, off int, long bool) {
	kernels.HashInt64(dst, words[:len(dst)], valid, off)
	if !long {
		return
	}
	for i, w := range words[:len(dst)] {
		if isLongWord(w) {
			dst[i] = xxhash.Sum64(data[offs[i]:offs[i+1]])
		}
	}
}

func (k *stringKey) hash(h, scratch []uint64, first bool) {
	n := len(h)
	dst := h
	if !first {
		dst = scratch[:n]
	}
	if k.idx == nil {
		k.hashWords(dst, k.row, k.offsets, k.data, k.valid, k.off, k.long)
	} else {
		for i, e := range k.idx[:n] {
			dst[i] = k.dictHash[e]
		}
		if k.valid != nil {
			for i := range dst {
				if isNull(k.valid, k.off, i) {
					dst[i] = kernels.NullHash
				}
			}
		}
	}
	if !first {
		kernels.HashCombine(h, dst)
	}
}

// sameTail reports whether row r, whose key word equals group g's and is a
// long string's, has g's string: same length and bytes after the first 7.
func (k *stringKey) sameTail(r int, g uint32) bool {
	s, e := k.rowRange(r)
	gs, ge := k.offs[g], k.offs[g+1]
	return e-s == ge-gs && bytes.Equal(k.data[s+7:e], k.arena[gs+7:ge])
}

func (k *stringKey) equal(eq []byte, cand []uint32, sel []int32, n int) {
	kernels.ProbeEqInt64Sel(eq, k.row[:n], k.words, cand[:n], sel)
	if !k.long {
		return
	}
	for _, r := range sel {
		if isLongWord(k.row[r]) && bitutil.BitIsSet(eq, int(r)) && !k.sameTail(int(r), cand[r]) {
			bitutil.ClearBit(eq, int(r))
		}
	}
}

func (k *stringKey) appendRow(r int) {
	if len(k.offs) == 0 {
		k.offs = append(k.offs, 0)
	}
	w := k.row[r]
	if w != stringNullWord {
		s, e := k.rowRange(r)
		k.arena = append(k.arena, k.data[s:e]...)
	}
	k.words = append(k.words, w)
	k.offs = append(k.offs, int32(len(k.arena)))
}

func (k *stringKey) word(g uint32) int64 { return k.words[g] }

func (k *stringKey) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return emitStrings(mem, k.words, k.offs, k.arena, ids)
}

func (k *stringKey) compact(keep []uint32) {
	words := make([]int64, len(keep))
	offs := make([]int32, 1, len(keep)+1)
	var arena []byte
	for j, g := range keep {
		words[j] = k.words[g]
		arena = append(arena, k.arena[k.offs[g]:k.offs[g+1]]...)
		offs = append(offs, int32(len(arena)))
	}
	k.words, k.offs, k.arena = words, offs, arena
}

func (k *stringKey) reset() {
	k.words, k.offs, k.arena = k.words[:0], k.offs[:0], k.arena[:0]
}

func (k *stringKey) bytes() int {
	return cap(k.words)*8 + cap(k.offs)*4 + cap(k.arena)
}
