package kernels

// Comparison kernels: = <> < <= > >= of int64, int32, float64 and float32
// columns against a scalar or against a second column, writing an
// Arrow-layout (LSB-first) bitmap: bit i of the result is byte i/8, bit i%8.
//
// Contract shared by every Compare* function:
//   - The result covers n = len(a) rows and occupies BitmapBytes(n) bytes of
//     dst; bits of rows ≥ n in the last byte are written as zero, and bytes of
//     dst beyond BitmapBytes(n) are never touched. dst shorter than that, an
//     invalid Op, or (column form) len(b) != len(a) panic.
//   - Values only: the kernels ignore nulls. A caller holding validity bitmaps
//     ANDs them into the result (And in this package; CopyBitmap first when the
//     Arrow validity has a bit offset), which is SQL's "comparison with NULL is
//     not true" for filters.
//   - Floats follow DuckDB's total order: NaN equals NaN and is greater than
//     every other value (+Inf included), and -0.0 equals 0.0. So NaN > x and
//     NaN = NaN are true, NaN < NaN is false, and x <> NaN is true for every
//     non-NaN x.
//
// The *Sel forms evaluate only the rows listed in a selection vector sel
// (indices into a, any order, duplicates allowed, each in [0, len(a)); an
// index outside panics). They write bit sel[k] — the result is a bitmap over
// the same rows as a, whose unselected rows are zero — so it composes
// directly with the batch's validity bitmaps (And) and Compress turns it into
// the next selection vector: a filter after a filter is CompareXxxSel with
// the first filter's selection, then Compress.

import (
	"encoding/binary"
	"strconv"
)

// Op is a comparison operator.
type Op uint8

// The comparison operators.
const (
	// Eq is =.
	Eq Op = iota
	// Ne is <> (!=).
	Ne
	// Lt is <.
	Lt
	// Le is <=.
	Le
	// Gt is >.
	Gt
	// Ge is >=.
	Ge
)

var opNames = [...]string{Eq: "=", Ne: "<>", Lt: "<", Le: "<=", Gt: ">", Ge: ">="}

// String returns the operator's SQL spelling ("=", "<>", "<", "<=", ">", ">=").
func (o Op) String() string {
	if o.valid() {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

func (o Op) valid() bool { return o <= Ge }

// Swap returns the operator with its operands exchanged: a o b == b o.Swap() a.
func (o Op) Swap() Op {
	switch o {
	case Lt:
		return Gt
	case Le:
		return Ge
	case Gt:
		return Lt
	case Ge:
		return Le
	}
	return o
}

// Negate returns the operator that is true exactly when o is false (under
// the total order used for floats too).
func (o Op) Negate() Op {
	return [...]Op{Eq: Ne, Ne: Eq, Lt: Ge, Le: Gt, Gt: Le, Ge: Lt}[o]
}

// Dispatched implementations (swapped by compare_<arch>.go).
var (
	compareInt64ScalarImpl   = compareInt64ScalarGeneric
	compareInt32ScalarImpl   = compareInt32ScalarGeneric
	compareFloat64ScalarImpl = compareFloat64ScalarGeneric
	compareFloat32ScalarImpl = compareFloat32ScalarGeneric
	compareInt64Impl         = compareInt64Generic
	compareInt32Impl         = compareInt32Generic
	compareFloat64Impl       = compareFloat64Generic
	compareFloat32Impl       = compareFloat32Generic
)

func checkCompare(dst []byte, n int, op Op) {
	if !op.valid() {
		panic("kernels: Compare: invalid Op " + op.String())
	}
	if len(dst) < BitmapBytes(n) {
		panic("kernels: Compare: dst shorter than BitmapBytes(len(a))")
	}
}

func checkCompareCol(dst []byte, na, nb int, op Op) {
	if na != nb {
		panic("kernels: Compare: len(a) != len(b)")
	}
	checkCompare(dst, na, op)
}

// CompareInt64Scalar sets bit i of dst to a[i] op s for every row of a.
func CompareInt64Scalar(dst []byte, a []int64, op Op, s int64) {
	checkCompare(dst, len(a), op)
	compareInt64ScalarImpl(dst, a, op, s)
}

// CompareInt32Scalar sets bit i of dst to a[i] op s for every row of a.
func CompareInt32Scalar(dst []byte, a []int32, op Op, s int32) {
	checkCompare(dst, len(a), op)
	compareInt32ScalarImpl(dst, a, op, s)
}

// CompareFloat64Scalar sets bit i of dst to a[i] op s for every row of a,
// with NaN equal to NaN and above every number, and -0.0 equal to 0.0.
func CompareFloat64Scalar(dst []byte, a []float64, op Op, s float64) {
	checkCompare(dst, len(a), op)
	compareFloat64ScalarImpl(dst, a, op, s)
}

// CompareFloat32Scalar sets bit i of dst to a[i] op s for every row of a,
// with NaN equal to NaN and above every number, and -0.0 equal to 0.0.
func CompareFloat32Scalar(dst []byte, a []float32, op Op, s float32) {
	checkCompare(dst, len(a), op)
	compareFloat32ScalarImpl(dst, a, op, s)
}

// CompareInt64 sets bit i of dst to a[i] op b[i]; len(b) must equal len(a).
func CompareInt64(dst []byte, a, b []int64, op Op) {
	checkCompareCol(dst, len(a), len(b), op)
	compareInt64Impl(dst, a, b, op)
}

// CompareInt32 sets bit i of dst to a[i] op b[i]; len(b) must equal len(a).
func CompareInt32(dst []byte, a, b []int32, op Op) {
	checkCompareCol(dst, len(a), len(b), op)
	compareInt32Impl(dst, a, b, op)
}

// CompareFloat64 sets bit i of dst to a[i] op b[i] under the NaN/-0.0 rules
// of CompareFloat64Scalar; len(b) must equal len(a).
func CompareFloat64(dst []byte, a, b []float64, op Op) {
	checkCompareCol(dst, len(a), len(b), op)
	compareFloat64Impl(dst, a, b, op)
}

// CompareFloat32 sets bit i of dst to a[i] op b[i] under the NaN/-0.0 rules
// of CompareFloat32Scalar; len(b) must equal len(a).
func CompareFloat32(dst []byte, a, b []float32, op Op) {
	checkCompareCol(dst, len(a), len(b), op)
	compareFloat32Impl(dst, a, b, op)
}

// CompareInt64ScalarSel sets bit sel[k] of dst to a[sel[k]] op s for every k
// and clears the bits of unselected rows (see the package's selection rules).
func CompareInt64ScalarSel(dst []byte, a []int64, op Op, s int64, sel []int32) {
	checkCompare(dst, len(a), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareInt64ScalarImpl(dst, a, op, s)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpScalarSelInt(dst, a, op, s, sel)
}

// CompareInt32ScalarSel sets bit sel[k] of dst to a[sel[k]] op s for every k
// and clears the bits of unselected rows.
func CompareInt32ScalarSel(dst []byte, a []int32, op Op, s int32, sel []int32) {
	checkCompare(dst, len(a), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareInt32ScalarImpl(dst, a, op, s)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpScalarSelInt(dst, a, op, s, sel)
}

// CompareFloat64ScalarSel sets bit sel[k] of dst to a[sel[k]] op s for every
// k (float rules of CompareFloat64Scalar) and clears the bits of unselected rows.
func CompareFloat64ScalarSel(dst []byte, a []float64, op Op, s float64, sel []int32) {
	checkCompare(dst, len(a), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareFloat64ScalarImpl(dst, a, op, s)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpScalarSelFloat(dst, a, op, s, sel)
}

// CompareFloat32ScalarSel sets bit sel[k] of dst to a[sel[k]] op s for every
// k (float rules of CompareFloat32Scalar) and clears the bits of unselected rows.
func CompareFloat32ScalarSel(dst []byte, a []float32, op Op, s float32, sel []int32) {
	checkCompare(dst, len(a), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareFloat32ScalarImpl(dst, a, op, s)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpScalarSelFloat(dst, a, op, s, sel)
}

// CompareInt64Sel sets bit sel[k] of dst to a[sel[k]] op b[sel[k]] for every
// k and clears the bits of unselected rows; len(b) must equal len(a).
func CompareInt64Sel(dst []byte, a, b []int64, op Op, sel []int32) {
	checkCompareCol(dst, len(a), len(b), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareInt64Impl(dst, a, b, op)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpColSelInt(dst, a, b, op, sel)
}

// CompareInt32Sel sets bit sel[k] of dst to a[sel[k]] op b[sel[k]] for every
// k and clears the bits of unselected rows; len(b) must equal len(a).
func CompareInt32Sel(dst []byte, a, b []int32, op Op, sel []int32) {
	checkCompareCol(dst, len(a), len(b), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareInt32Impl(dst, a, b, op)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpColSelInt(dst, a, b, op, sel)
}

// CompareFloat64Sel sets bit sel[k] of dst to a[sel[k]] op b[sel[k]] for
// every k (float rules of CompareFloat64) and clears the bits of unselected
// rows; len(b) must equal len(a).
func CompareFloat64Sel(dst []byte, a, b []float64, op Op, sel []int32) {
	checkCompareCol(dst, len(a), len(b), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareFloat64Impl(dst, a, b, op)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpColSelFloat(dst, a, b, op, sel)
}

// CompareFloat32Sel sets bit sel[k] of dst to a[sel[k]] op b[sel[k]] for
// every k (float rules of CompareFloat32) and clears the bits of unselected
// rows; len(b) must equal len(a).
func CompareFloat32Sel(dst []byte, a, b []float32, op Op, sel []int32) {
	checkCompareCol(dst, len(a), len(b), op)
	if cmpSelDense && len(sel)*8 >= len(a) {
		compareFloat32Impl(dst, a, b, op)
		if cmpKeepSelected(dst, len(a), sel) {
			return
		}
	}
	cmpColSelFloat(dst, a, b, op, sel)
}

// ---- references ----

func cmpBit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

type cmpInteger interface{ ~int64 | ~int32 }

type cmpFloating interface{ ~float64 | ~float32 }

// Float predicates of the total order: NaN = NaN, NaN above every number.
func cmpFeq[T cmpFloating](x, y T) bool { return x == y || (x != x && y != y) }
func cmpFlt[T cmpFloating](x, y T) bool { return x < y || (y != y && x == x) }
func cmpFle[T cmpFloating](x, y T) bool { return x <= y || y != y }

// cmpScalarIntRef is the reference for the cmpInteger scalar comparisons: it
// builds each output byte from up to 8 rows.
func cmpScalarIntRef[T cmpInteger](dst []byte, a []T, op Op, s T) {
	for i := 0; i < len(a); i += 8 {
		x := a[i:min(i+8, len(a))]
		var b byte
		switch op {
		case Eq:
			for j, v := range x {
				b |= cmpBit(v == s) << j
			}
		case Ne:
			for j, v := range x {
				b |= cmpBit(v != s) << j
			}
		case Lt:
			for j, v := range x {
				b |= cmpBit(v < s) << j
			}
		case Le:
			for j, v := range x {
				b |= cmpBit(v <= s) << j
			}
		case Gt:
			for j, v := range x {
				b |= cmpBit(v > s) << j
			}
		case Ge:
			for j, v := range x {
				b |= cmpBit(v >= s) << j
			}
		}
		dst[i>>3] = b
	}
}

// cmpScalarFloatRef is the reference for the float scalar comparisons.
func cmpScalarFloatRef[T cmpFloating](dst []byte, a []T, op Op, s T) {
	for i := 0; i < len(a); i += 8 {
		x := a[i:min(i+8, len(a))]
		var b byte
		switch op {
		case Eq:
			for j, v := range x {
				b |= cmpBit(cmpFeq(v, s)) << j
			}
		case Ne:
			for j, v := range x {
				b |= cmpBit(!cmpFeq(v, s)) << j
			}
		case Lt:
			for j, v := range x {
				b |= cmpBit(cmpFlt(v, s)) << j
			}
		case Le:
			for j, v := range x {
				b |= cmpBit(cmpFle(v, s)) << j
			}
		case Gt:
			for j, v := range x {
				b |= cmpBit(cmpFlt(s, v)) << j
			}
		case Ge:
			for j, v := range x {
				b |= cmpBit(cmpFle(s, v)) << j
			}
		}
		dst[i>>3] = b
	}
}

// cmpColIntRef is the reference for the cmpInteger column comparisons.
func cmpColIntRef[T cmpInteger](dst []byte, a, bv []T, op Op) {
	bv = bv[:len(a)]
	for i := 0; i < len(a); i += 8 {
		e := min(i+8, len(a))
		x, y := a[i:e], bv[i:e]
		var b byte
		switch op {
		case Eq:
			for j, v := range x {
				b |= cmpBit(v == y[j]) << j
			}
		case Ne:
			for j, v := range x {
				b |= cmpBit(v != y[j]) << j
			}
		case Lt:
			for j, v := range x {
				b |= cmpBit(v < y[j]) << j
			}
		case Le:
			for j, v := range x {
				b |= cmpBit(v <= y[j]) << j
			}
		case Gt:
			for j, v := range x {
				b |= cmpBit(v > y[j]) << j
			}
		case Ge:
			for j, v := range x {
				b |= cmpBit(v >= y[j]) << j
			}
		}
		dst[i>>3] = b
	}
}

// cmpColFloatRef is the reference for the float column comparisons.
func cmpColFloatRef[T cmpFloating](dst []byte, a, bv []T, op Op) {
	bv = bv[:len(a)]
	for i := 0; i < len(a); i += 8 {
		e := min(i+8, len(a))
		x, y := a[i:e], bv[i:e]
		var b byte
		switch op {
		case Eq:
			for j, v := range x {
				b |= cmpBit(cmpFeq(v, y[j])) << j
			}
		case Ne:
			for j, v := range x {
				b |= cmpBit(!cmpFeq(v, y[j])) << j
			}
		case Lt:
			for j, v := range x {
				b |= cmpBit(cmpFlt(v, y[j])) << j
			}
		case Le:
			for j, v := range x {
				b |= cmpBit(cmpFle(v, y[j])) << j
			}
		case Gt:
			for j, v := range x {
				b |= cmpBit(cmpFlt(y[j], v)) << j
			}
		case Ge:
			for j, v := range x {
				b |= cmpBit(cmpFle(y[j], v)) << j
			}
		}
		dst[i>>3] = b
	}
}

// compareInt64ScalarGeneric is the reference of CompareInt64Scalar.
func compareInt64ScalarGeneric(dst []byte, a []int64, op Op, s int64) {
	cmpScalarIntRef(dst, a, op, s)
}

// compareInt32ScalarGeneric is the reference of CompareInt32Scalar.
func compareInt32ScalarGeneric(dst []byte, a []int32, op Op, s int32) {
	cmpScalarIntRef(dst, a, op, s)
}

// compareFloat64ScalarGeneric is the reference of CompareFloat64Scalar.
func compareFloat64ScalarGeneric(dst []byte, a []float64, op Op, s float64) {
	cmpScalarFloatRef(dst, a, op, s)
}

// compareFloat32ScalarGeneric is the reference of CompareFloat32Scalar.
func compareFloat32ScalarGeneric(dst []byte, a []float32, op Op, s float32) {
	cmpScalarFloatRef(dst, a, op, s)
}

// compareInt64Generic is the reference of CompareInt64.
func compareInt64Generic(dst []byte, a, b []int64, op Op) { cmpColIntRef(dst, a, b, op) }

// compareInt32Generic is the reference of CompareInt32.
func compareInt32Generic(dst []byte, a, b []int32, op Op) { cmpColIntRef(dst, a, b, op) }

// compareFloat64Generic is the reference of CompareFloat64.
func compareFloat64Generic(dst []byte, a, b []float64, op Op) { cmpColFloatRef(dst, a, b, op) }

// compareFloat32Generic is the reference of CompareFloat32.
func compareFloat32Generic(dst []byte, a, b []float32, op Op) { cmpColFloatRef(dst, a, b, op) }

// cmpSelDense is set by the vector levels: a Sel form with at least one
// selected row in 8 then compares every row with the vector kernel (~0.1 ns
// a row) and keeps the selected rows' bits (cmpKeepSelected), instead of
// evaluating row by row (~1 ns a selected row).
var cmpSelDense bool

// cmpKeepSelected clears the bits of dst[:BitmapBytes(n)] whose rows are not
// in sel. It needs sel ascending (duplicates allowed) and reports false, with
// dst partly cleared, on the first descending index; the caller then falls
// back to the row-by-row form. An index >= n panics.
func cmpKeepSelected(dst []byte, n int, sel []int32) bool {
	d := dst[:BitmapBytes(n)]
	cur, prev := -1, int32(-1)
	var m uint64
	for _, i := range sel {
		if i < prev {
			return false
		}
		prev = i
		if wi := int(i >> 6); wi != cur {
			if cur >= 0 {
				cmpAndWord(d, cur, m)
			}
			cmpZeroWords(d, cur+1, wi)
			cur, m = wi, 0
		}
		m |= 1 << (uint32(i) & 63)
	}
	if int(prev) >= n {
		panic("kernels: Compare: selection index out of range")
	}
	if cur >= 0 {
		cmpAndWord(d, cur, m)
	}
	cmpZeroWords(d, cur+1, (len(d)+7)>>3)
	return true
}

// cmpAndWord ANDs m into 64-bit word w of d (d may end inside the word).
func cmpAndWord(d []byte, w int, m uint64) {
	d = d[w<<3:]
	if len(d) >= 8 {
		binary.LittleEndian.PutUint64(d, binary.LittleEndian.Uint64(d)&m)
		return
	}
	for k := range d {
		d[k] &= byte(m >> (8 * k))
	}
}

// cmpZeroWords clears 64-bit words [from, to) of d.
func cmpZeroWords(d []byte, from, to int) {
	if from < to {
		clear(d[from<<3 : min(to<<3, len(d))])
	}
}

// Selection forms: one pass over sel. Result bits are collected in a 64-bit
// word while consecutive indices fall into the same word (the usual ascending
// selection) and OR-ed into dst when the word changes, so the loop carries no
// store-to-load dependency through dst.

// selBits accumulates result bits of a row-space bitmap dst.
type selBits struct {
	dst []byte
	cur int    // word index of w, -1 before the first row
	w   uint64 // pending bits of word cur
}

func (s *selBits) add(i int32, bit byte) {
	if wi := int(i >> 6); wi != s.cur {
		s.flush()
		s.cur = wi
	}
	s.w |= uint64(bit) << (uint32(i) & 63)
}

// flush ORs the pending word into dst (dst may end inside the word).
func (s *selBits) flush() {
	if s.w != 0 {
		d := s.dst[s.cur<<3:]
		if len(d) >= 8 {
			binary.LittleEndian.PutUint64(d, binary.LittleEndian.Uint64(d)|s.w)
		} else {
			for k := range d {
				d[k] |= byte(s.w >> (8 * k))
			}
		}
	}
	s.w = 0
}

func newSelBits(dst []byte, n int) selBits {
	d := dst[:BitmapBytes(n)]
	clear(d)
	return selBits{dst: d, cur: -1}
}

func cmpScalarSelInt[T cmpInteger](dst []byte, a []T, op Op, s T, sel []int32) {
	acc := newSelBits(dst, len(a))
	switch op {
	case Eq:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] == s))
		}
	case Ne:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] != s))
		}
	case Lt:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] < s))
		}
	case Le:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] <= s))
		}
	case Gt:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] > s))
		}
	case Ge:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] >= s))
		}
	}
	acc.flush()
}

func cmpScalarSelFloat[T cmpFloating](dst []byte, a []T, op Op, s T, sel []int32) {
	acc := newSelBits(dst, len(a))
	switch op {
	case Eq:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFeq(a[i], s)))
		}
	case Ne:
		for _, i := range sel {
			acc.add(i, cmpBit(!cmpFeq(a[i], s)))
		}
	case Lt:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFlt(a[i], s)))
		}
	case Le:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFle(a[i], s)))
		}
	case Gt:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFlt(s, a[i])))
		}
	case Ge:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFle(s, a[i])))
		}
	}
	acc.flush()
}

func cmpColSelInt[T cmpInteger](dst []byte, a, b []T, op Op, sel []int32) {
	acc := newSelBits(dst, len(a))
	b = b[:len(a)]
	switch op {
	case Eq:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] == b[i]))
		}
	case Ne:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] != b[i]))
		}
	case Lt:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] < b[i]))
		}
	case Le:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] <= b[i]))
		}
	case Gt:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] > b[i]))
		}
	case Ge:
		for _, i := range sel {
			acc.add(i, cmpBit(a[i] >= b[i]))
		}
	}
	acc.flush()
}

func cmpColSelFloat[T cmpFloating](dst []byte, a, b []T, op Op, sel []int32) {
	acc := newSelBits(dst, len(a))
	b = b[:len(a)]
	switch op {
	case Eq:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFeq(a[i], b[i])))
		}
	case Ne:
		for _, i := range sel {
			acc.add(i, cmpBit(!cmpFeq(a[i], b[i])))
		}
	case Lt:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFlt(a[i], b[i])))
		}
	case Le:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFle(a[i], b[i])))
		}
	case Gt:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFlt(b[i], a[i])))
		}
	case Ge:
		for _, i := range sel {
			acc.add(i, cmpBit(cmpFle(b[i], a[i])))
		}
	}
	acc.flush()
}
