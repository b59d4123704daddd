package agg

import (
	"math"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// valueStore holds one value of the input type per group, for MIN, MAX,
// FIRST and LAST: int-like and bool columns as int64 words, floats as
// float64, strings as Go strings (copied out of the batch).
type valueStore struct {
	dt     arrow.DataType
	words  []int64
	floats []float64
	strs   []string
	// current batch
	w      []int64
	f      []float64
	s      *array.String
	wbuf   []int64
	fbuf   []float64
	valid  []byte
	off    int
	isStr  bool
	isFlt  bool
	length int
}

func newValueStore(dt arrow.DataType) *valueStore {
	return &valueStore{dt: dt, isStr: dt.ID() == arrow.STRING, isFlt: isFloat(dt)}
}

func (v *valueStore) resize(n int) {
	switch {
	case v.isStr:
		v.strs = growZero(v.strs, n)
	case v.isFlt:
		v.floats = growZero(v.floats, n)
	default:
		v.words = growZero(v.words, n)
	}
	v.length = n
}

func (v *valueStore) load(arr arrow.Array) {
	v.valid, v.off = validityOf(arr)
	switch {
	case v.isStr:
		v.s = arr.(*array.String)
	case v.isFlt:
		v.f = floatValues(arr, &v.fbuf)
	default:
		v.w = intValues(arr, &v.wbuf)
	}
}

func (v *valueStore) null(r int32) bool {
	return v.valid != nil && !bitutil.BitIsSet(v.valid, v.off+int(r))
}

// set stores row r of the loaded batch as group g's value.
func (v *valueStore) set(g uint32, r int32) {
	switch {
	case v.isStr:
		v.strs[g] = strings.Clone(v.s.Value(int(r)))
	case v.isFlt:
		v.floats[g] = v.f[r]
	default:
		v.words[g] = v.w[r]
	}
}

// copyFrom stores src's group i as group g.
func (v *valueStore) copyFrom(g uint32, src *valueStore, i int) {
	switch {
	case v.isStr:
		v.strs[g] = src.strs[i]
	case v.isFlt:
		v.floats[g] = src.floats[i]
	default:
		v.words[g] = src.words[i]
	}
}

// floatLess is the total order of MIN/MAX on floats:
// -Inf < … < -0.0 < +0.0 < … < +Inf < NaN (NaN above every number, as in
// DuckDB).
func floatLess(a, b float64) bool {
	switch {
	case a != a:
		return false
	case b != b:
		return true
	case a == b:
		return a == 0 && math.Signbit(a) && !math.Signbit(b)
	}
	return a < b
}

// less reports whether row r of the batch orders before group g's value.
func (v *valueStore) less(r int32, g uint32) bool {
	switch {
	case v.isStr:
		return v.s.Value(int(r)) < v.strs[g]
	case v.isFlt:
		return floatLess(v.f[r], v.floats[g])
	}
	return v.w[r] < v.words[g]
}

// greater reports whether row r of the batch orders after group g's value.
func (v *valueStore) greater(r int32, g uint32) bool {
	switch {
	case v.isStr:
		return v.s.Value(int(r)) > v.strs[g]
	case v.isFlt:
		return floatLess(v.floats[g], v.f[r])
	}
	return v.w[r] > v.words[g]
}

// lessStored compares stored values: src's group i before this group g.
func (v *valueStore) lessStored(src *valueStore, i int, g uint32) bool {
	switch {
	case v.isStr:
		return src.strs[i] < v.strs[g]
	case v.isFlt:
		return floatLess(src.floats[i], v.floats[g])
	}
	return src.words[i] < v.words[g]
}

func (v *valueStore) emit(mem memory.Allocator, ids []uint32, null func(g int) bool) arrow.Array {
	return emitGroups(mem, v.dt, v.length, ids, func(b array.Builder, g int) {
		if null(g) {
			b.AppendNull()
			return
		}
		switch bb := b.(type) {
		case *array.StringBuilder:
			bb.Append(v.strs[g])
		case *array.Float64Builder:
			bb.Append(v.floats[g])
		case *array.Float32Builder:
			bb.Append(float32(v.floats[g]))
		default:
			appendWord(b, v.words[g])
		}
	})
}

func (v *valueStore) compact(keep []uint32) {
	switch {
	case v.isStr:
		v.strs = compactSlice(v.strs, keep)
	case v.isFlt:
		v.floats = compactSlice(v.floats, keep)
	default:
		v.words = compactSlice(v.words, keep)
	}
	v.length = len(keep)
}

func (v *valueStore) reset() {
	v.words, v.floats, v.strs, v.length = v.words[:0], v.floats[:0], v.strs[:0], 0
	v.s = nil
}

func (v *valueStore) bytes() int {
	b := cap(v.words)*8 + cap(v.floats)*8 + cap(v.strs)*16
	for _, s := range v.strs {
		b += len(s)
	}
	return b
}

// minMaxState is MIN or MAX of any comparable column.
type minMaxState struct {
	max  bool
	vs   *valueStore
	has  []bool
	iota []int32
}

func (s *minMaxState) resize(n int) {
	s.vs.resize(n)
	s.has = growZero(s.has, n)
}

func (s *minMaxState) update(groups []uint32, in *argInput) error {
	arr, sel := in.arr, in.sel
	s.vs.load(arr)
	rows := rowsOf(arr.Len(), sel, &s.iota)
	for _, r := range rows {
		if s.vs.null(r) {
			continue
		}
		g := groups[r]
		if !s.has[g] || (s.max && s.vs.greater(r, g)) || (!s.max && s.vs.less(r, g)) {
			s.vs.set(g, r)
			s.has[g] = true
		}
	}
	s.vs.s = nil // do not keep the batch alive
	return nil
}

func (s *minMaxState) merge(src state, mapping []uint32) error {
	o := src.(*minMaxState)
	for i, h := range o.has {
		if !h {
			continue
		}
		g := mapping[i]
		// o.vs.lessStored(s.vs, g, i): our group g orders before src's group i.
		if !s.has[g] || (s.max && o.vs.lessStored(s.vs, int(g), uint32(i))) ||
			(!s.max && s.vs.lessStored(o.vs, i, g)) {
			s.vs.copyFrom(g, o.vs, i)
			s.has[g] = true
		}
	}
	return nil
}

func (s *minMaxState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return s.vs.emit(mem, ids, func(g int) bool { return !s.has[g] })
}

func (s *minMaxState) compact(keep []uint32) {
	s.vs.compact(keep)
	s.has = compactSlice(s.has, keep)
}
func (s *minMaxState) reset()     { s.vs.reset(); s.has = s.has[:0] }
func (s *minMaxState) bytes() int { return s.vs.bytes() + cap(s.has) }

// firstLastState is FIRST or LAST: the value of the group's first (last)
// row in arrival order, NULL if that row's value is NULL (as DuckDB's
// first/last). Across a merge, the receiving state's rows come first.
type firstLastState struct {
	last  bool
	vs    *valueStore
	has   []bool
	nulls []bool
	iota  []int32
}

func (s *firstLastState) resize(n int) {
	s.vs.resize(n)
	s.has = growZero(s.has, n)
	s.nulls = growZero(s.nulls, n)
}

func (s *firstLastState) update(groups []uint32, in *argInput) error {
	arr, sel := in.arr, in.sel
	s.vs.load(arr)
	rows := rowsOf(arr.Len(), sel, &s.iota)
	for _, r := range rows {
		g := groups[r]
		if s.has[g] && !s.last {
			continue
		}
		s.has[g] = true
		s.nulls[g] = s.vs.null(r)
		if !s.nulls[g] {
			s.vs.set(g, r)
		}
	}
	s.vs.s = nil
	return nil
}

func (s *firstLastState) merge(src state, mapping []uint32) error {
	o := src.(*firstLastState)
	for i, h := range o.has {
		if !h {
			continue
		}
		g := mapping[i]
		if s.has[g] && !s.last {
			continue
		}
		s.has[g], s.nulls[g] = true, o.nulls[i]
		if !o.nulls[i] {
			s.vs.copyFrom(g, o.vs, i)
		}
	}
	return nil
}

func (s *firstLastState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return s.vs.emit(mem, ids, func(g int) bool { return !s.has[g] || s.nulls[g] })
}

func (s *firstLastState) compact(keep []uint32) {
	s.vs.compact(keep)
	s.has, s.nulls = compactSlice(s.has, keep), compactSlice(s.nulls, keep)
}
func (s *firstLastState) reset()     { s.vs.reset(); s.has, s.nulls = s.has[:0], s.nulls[:0] }
func (s *firstLastState) bytes() int { return s.vs.bytes() + cap(s.has) + cap(s.nulls) }
