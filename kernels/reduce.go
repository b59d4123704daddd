package kernels

import (
	"fmt"
	"math"
	"math/bits"
)

// Reductions: COUNT, SUM, MIN and MAX of one int64 or float64 vector.
//
// Every reduction takes the same three optional filters:
//
//   - validity: an Arrow-layout (LSB-first) bitmap; row i is valid when bit
//     off+i is set. nil means every row is valid (off is then ignored).
//     A non-nil bitmap must hold at least off+len(vals) bits.
//   - off: the bit offset of row 0 in validity (Arrow arrays carry one).
//   - sel: a selection vector of row indices into vals; nil means every row
//     0..len(vals)-1 in order. Entries must be in [0, len(vals)) (an index
//     out of range panics, as slice indexing does).
//
// A row contributes when it is selected and valid. Each reduction also
// returns n, the number of contributing rows: SQL's SUM, MIN and MAX of no
// rows is NULL, so callers treat n == 0 as NULL (the value returned then is
// the operation's identity and carries no meaning).
//
// Int64 sums are exact: SumInt64 reports overflow exactly when the
// mathematical sum of the contributing values lies outside
// [math.MinInt64, math.MaxInt64]; intermediate partial sums may leave that
// range without effect (they are accumulated in 128 bits). All levels agree
// because the result is the exact integer.
//
// Float64 sums fix their order of additions, so every level returns the same
// bits (see SumFloat64). Float64 MIN and MAX use the total order
//
//	-Inf < … < -0.0 < +0.0 < … < +Inf < NaN
//
// (NaN greater than every number, as in DuckDB; -0.0 below +0.0), and return
// every NaN as the canonical math.NaN().

// sumLanes is the number of independent accumulators ("lanes") of the float64
// sum: the k-th contributing candidate goes to lane k % sumLanes.
const sumLanes = 16

// Package-level implementations, swapped per level by reduce_<arch>.go.
var (
	sumInt64Impl   = sumInt64Generic
	sumFloat64Impl = sumFloat64Generic
	minInt64Impl   = minInt64Generic
	maxInt64Impl   = maxInt64Generic
	minFloat64Impl = minFloat64Generic
	maxFloat64Impl = maxFloat64Generic
)

// Count returns the number of rows among n rows (or, when sel is non-nil,
// among the selected rows sel[j], which must be < n) that are valid in the
// bitmap (validity nil: all valid). It is COUNT(x) for a column with that
// validity; COUNT(*) is simply n or len(sel).
//
// Count runs in Go at every level: with math/bits.OnesCount64 (one POPCNT
// per 64 rows) the bitmap, 1/64 of an int64 column's bytes, is read at
// memory speed (see the reduce/Count benchmarks), so assembly has nothing to
// win.
func Count(n int, validity []byte, off int, sel []int32) int {
	if n < 0 {
		panic(fmt.Sprintf("kernels.Count: negative row count %d", n))
	}
	reduceCheck("Count", n, validity, off)
	if sel != nil {
		if validity == nil {
			for _, r := range sel {
				if uint(r) >= uint(n) {
					panic(fmt.Sprintf("kernels.Count: selected row %d out of range [0, %d)", r, n))
				}
			}
			return len(sel)
		}
		c := 0
		for _, r := range sel {
			if uint(r) >= uint(n) {
				panic(fmt.Sprintf("kernels.Count: selected row %d out of range [0, %d)", r, n))
			}
			b := off + int(r)
			c += int(validity[b>>3] >> (b & 7) & 1)
		}
		return c
	}
	if validity == nil {
		return n
	}
	return countBits(validity, off, n)
}

// countBits returns the number of set bits among bits [off, off+n) of bm.
func countBits(bm []byte, off, n int) int {
	c := 0
	// Leading bits up to a byte boundary.
	for n > 0 && off&7 != 0 {
		c += int(bm[off>>3] >> (off & 7) & 1)
		off++
		n--
	}
	b := bm[off>>3:]
	i := 0
	for ; n >= 64; n -= 64 {
		w := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		c += bits.OnesCount64(w)
		i += 8
	}
	for ; n >= 8; n -= 8 {
		c += bits.OnesCount8(b[i])
		i++
	}
	if n > 0 {
		c += bits.OnesCount8(b[i] & (1<<n - 1))
	}
	return c
}

// reduceCheck panics when a non-nil validity bitmap cannot hold rows
// [off, off+n).
func reduceCheck(kernel string, n int, validity []byte, off int) {
	if validity == nil {
		return
	}
	if off < 0 || (off+n+7)>>3 > len(validity) {
		panic(fmt.Sprintf("kernels.%s: validity bitmap of %d bytes at bit offset %d is too short for %d rows",
			kernel, len(validity), off, n))
	}
}

// SumInt64 returns the exact sum of the contributing values (see the package
// notes on reductions), their number n, and overflow = true when that exact
// sum does not fit in an int64 (sum then holds its low 64 bits). With n == 0 it
// returns (0, 0, false): the caller's NULL.
func SumInt64(vals []int64, validity []byte, off int, sel []int32) (sum int64, n int, overflow bool) {
	reduceCheck("SumInt64", len(vals), validity, off)
	return sumInt64Impl(vals, validity, off, sel)
}

// SumFloat64 returns the sum of the contributing values and their number n.
//
// Summation order (part of the contract; every level reproduces it bit for
// bit): there are 16 lanes, each starting at -0.0 (the exact identity of
// IEEE addition). Candidate k — row k when sel is nil, row sel[k] otherwise —
// is added, when valid, to lane k % 16, in increasing k. The result is then
// the fixed pairwise tree
//
//	s[i] = lane[i] + lane[i+8]   (i < 8)
//	t[i] = s[i] + s[i+4]         (i < 4)
//	u[i] = t[i] + t[i+2]         (i < 2)
//	sum  = u[0] + u[1]
//
// So the sum of only -0.0 values is -0.0, and n == 0 returns -0.0. A NaN
// result (a NaN input, or +Inf and -Inf) is always math.NaN().
func SumFloat64(vals []float64, validity []byte, off int, sel []int32) (sum float64, n int) {
	reduceCheck("SumFloat64", len(vals), validity, off)
	return sumFloat64Impl(vals, validity, off, sel)
}

// MinInt64 returns the smallest contributing value and the number n of
// contributing rows (n == 0: NULL, the value is math.MaxInt64).
func MinInt64(vals []int64, validity []byte, off int, sel []int32) (min int64, n int) {
	reduceCheck("MinInt64", len(vals), validity, off)
	return minInt64Impl(vals, validity, off, sel)
}

// MaxInt64 returns the largest contributing value and the number n of
// contributing rows (n == 0: NULL, the value is math.MinInt64).
func MaxInt64(vals []int64, validity []byte, off int, sel []int32) (max int64, n int) {
	reduceCheck("MaxInt64", len(vals), validity, off)
	return maxInt64Impl(vals, validity, off, sel)
}

// MinFloat64 returns the smallest contributing value in the order
// -Inf < … < -0.0 < +0.0 < … < +Inf < NaN, and the number n of contributing
// rows. It is NaN (math.NaN()) only when every contributing value is NaN, and
// -0.0 when -0.0 is the smallest. n == 0 (NULL) returns math.NaN().
func MinFloat64(vals []float64, validity []byte, off int, sel []int32) (min float64, n int) {
	reduceCheck("MinFloat64", len(vals), validity, off)
	return minFloat64Impl(vals, validity, off, sel)
}

// MaxFloat64 returns the largest contributing value in the order
// -Inf < … < -0.0 < +0.0 < … < +Inf < NaN, and the number n of contributing
// rows: math.NaN() when any contributing value is NaN, +0.0 over -0.0 when
// both occur. n == 0 (NULL) returns math.NaN().
func MaxFloat64(vals []float64, validity []byte, off int, sel []int32) (max float64, n int) {
	reduceCheck("MaxFloat64", len(vals), validity, off)
	return maxFloat64Impl(vals, validity, off, sel)
}

// ---------------------------------------------------------------------------
// 128-bit accumulator for exact int64 sums.

// i128 is a two's-complement 128-bit integer.
type i128 struct {
	hi int64
	lo uint64
}

// add adds the int64 v (sign-extended).
func (a *i128) add(v int64) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, uint64(v), 0)
	a.hi += int64(c) + v>>63
}

// addU adds the unsigned v.
func (a *i128) addU(v uint64) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, v, 0)
	a.hi += int64(c)
}

// addShl32 adds v·2^32 (v signed).
func (a *i128) addShl32(v int64) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, uint64(v)<<32, 0)
	a.hi += int64(c) + v>>32
}

// int64 returns the value and whether it fits in an int64.
func (a i128) int64() (int64, bool) {
	return int64(a.lo), a.hi == int64(a.lo)>>63
}

// addLanes folds SIMD lane partials into a: lanes[0:8] hold sums of the
// values' low 32 bits (unsigned), lanes[8:16] sums of their high 32 bits
// (signed, i.e. v>>32), so Σv = Σlo + 2^32·Σhi exactly.
func (a *i128) addLanes(lanes *[16]uint64) {
	for k := 0; k < 8; k++ {
		a.addU(lanes[k])
		a.addShl32(int64(lanes[8+k]))
	}
}

// ---------------------------------------------------------------------------
// References. They are the Generic level and the test oracles.

// validBit reports whether bit off+i of bm is set.
func validBit(bm []byte, off, i int) bool {
	b := off + i
	return bm[b>>3]>>(b&7)&1 != 0
}

// sumInt64Generic is the reference of SumInt64: a 128-bit running sum.
func sumInt64Generic(vals []int64, validity []byte, off int, sel []int32) (int64, int, bool) {
	var acc i128
	n := sumInt64Rows(&acc, vals, validity, off, sel, 0)
	s, ok := acc.int64()
	return s, n, !ok
}

// sumInt64Rows adds the contributing values among candidates from..end to
// acc and returns how many contributed.
func sumInt64Rows(acc *i128, vals []int64, validity []byte, off int, sel []int32, from int) int {
	n := 0
	switch {
	case sel == nil && validity == nil:
		for _, v := range vals[from:] {
			acc.add(v)
		}
		n = len(vals) - from
	case sel == nil:
		for i := from; i < len(vals); i++ {
			if validBit(validity, off, i) {
				acc.add(vals[i])
				n++
			}
		}
	case validity == nil:
		for _, r := range sel[from:] {
			acc.add(vals[r])
		}
		n = len(sel) - from
	default:
		for _, r := range sel[from:] {
			v := vals[r]
			if validBit(validity, off, int(r)) {
				acc.add(v)
				n++
			}
		}
	}
	return n
}

// negZero returns -0.0.
func negZero() float64 { return math.Copysign(0, -1) }

// initSumLanes sets every lane to -0.0.
func initSumLanes(l *[sumLanes]float64) {
	z := negZero()
	for k := range l {
		l[k] = z
	}
}

// sumLanesTree combines the 16 lanes with the documented pairwise tree.
func sumLanesTree(l *[sumLanes]float64) float64 {
	var s [8]float64
	for k := 0; k < 8; k++ {
		s[k] = l[k] + l[k+8]
	}
	for k := 0; k < 4; k++ {
		s[k] += s[k+4]
	}
	s[0] += s[2]
	s[1] += s[3]
	r := s[0] + s[1]
	if r != r {
		// NaN payloads depend on the hardware's propagation rules and on
		// operand order; the contract returns one NaN everywhere.
		return math.NaN()
	}
	return r
}

// sumFloat64Generic is the reference of SumFloat64.
func sumFloat64Generic(vals []float64, validity []byte, off int, sel []int32) (float64, int) {
	var lanes [sumLanes]float64
	initSumLanes(&lanes)
	n := sumFloat64Rows(&lanes, vals, validity, off, sel, 0)
	return sumLanesTree(&lanes), n
}

// sumFloat64Rows adds candidates from.. to their lanes (candidate k to lane
// k%16) and returns how many contributed.
func sumFloat64Rows(lanes *[sumLanes]float64, vals []float64, validity []byte, off int, sel []int32, from int) int {
	n := 0
	switch {
	case sel == nil && validity == nil:
		for i := from; i < len(vals); i++ {
			lanes[i&(sumLanes-1)] += vals[i]
		}
		n = len(vals) - from
	case sel == nil:
		for i := from; i < len(vals); i++ {
			if validBit(validity, off, i) {
				lanes[i&(sumLanes-1)] += vals[i]
				n++
			}
		}
	case validity == nil:
		for k := from; k < len(sel); k++ {
			lanes[k&(sumLanes-1)] += vals[sel[k]]
		}
		n = len(sel) - from
	default:
		for k := from; k < len(sel); k++ {
			r := sel[k]
			v := vals[r]
			if validBit(validity, off, int(r)) {
				lanes[k&(sumLanes-1)] += v
				n++
			}
		}
	}
	return n
}

// floatKey maps a float64 to an int64 whose signed order is the reductions'
// total order: NaNs (any payload or sign) to math.MaxInt64, others to their
// bits with the non-sign bits flipped when negative (-0.0 → -1, +0.0 → 0).
func floatKey(f float64) int64 {
	if f != f {
		return math.MaxInt64
	}
	b := int64(math.Float64bits(f))
	return b ^ int64(uint64(b>>63)>>1)
}

// keyFloat inverts floatKey; every NaN comes back as math.NaN().
func keyFloat(k int64) float64 {
	f := math.Float64frombits(uint64(k ^ int64(uint64(k>>63)>>1)))
	if f != f {
		return math.NaN()
	}
	return f
}

// keyFlip returns the XOR mask that turns a min into a max: 0 for max, -1
// (bitwise NOT, which reverses the signed order) for min.
func keyFlip(isMax bool) int64 {
	if isMax {
		return 0
	}
	return -1
}

// maxInt64Rows folds the contributing values among candidates from.. into m
// as m = max(m, v^flip) and returns how many contributed.
func maxInt64Rows(m *int64, vals []int64, validity []byte, off int, sel []int32, from int, flip int64) int {
	n := 0
	acc := *m
	switch {
	case sel == nil && validity == nil:
		for _, v := range vals[from:] {
			acc = max(acc, v^flip)
		}
		n = len(vals) - from
	case sel == nil:
		for i := from; i < len(vals); i++ {
			if validBit(validity, off, i) {
				acc = max(acc, vals[i]^flip)
				n++
			}
		}
	case validity == nil:
		for _, r := range sel[from:] {
			acc = max(acc, vals[r]^flip)
		}
		n = len(sel) - from
	default:
		for _, r := range sel[from:] {
			v := vals[r]
			if validBit(validity, off, int(r)) {
				acc = max(acc, v^flip)
				n++
			}
		}
	}
	*m = acc
	return n
}

// maxFloat64Rows is maxInt64Rows over floatKey(vals[i]).
func maxFloat64Rows(m *int64, vals []float64, validity []byte, off int, sel []int32, from int, flip int64) int {
	n := 0
	acc := *m
	switch {
	case sel == nil && validity == nil:
		for _, v := range vals[from:] {
			acc = max(acc, floatKey(v)^flip)
		}
		n = len(vals) - from
	case sel == nil:
		for i := from; i < len(vals); i++ {
			if validBit(validity, off, i) {
				acc = max(acc, floatKey(vals[i])^flip)
				n++
			}
		}
	case validity == nil:
		for _, r := range sel[from:] {
			acc = max(acc, floatKey(vals[r])^flip)
		}
		n = len(sel) - from
	default:
		for _, r := range sel[from:] {
			v := vals[r]
			if validBit(validity, off, int(r)) {
				acc = max(acc, floatKey(v)^flip)
				n++
			}
		}
	}
	*m = acc
	return n
}

// minMaxInt64Generic is the reference of MinInt64 (isMax false) and
// MaxInt64.
func minMaxInt64Generic(vals []int64, validity []byte, off int, sel []int32, isMax bool) (int64, int) {
	flip := keyFlip(isMax)
	m := int64(math.MinInt64)
	n := maxInt64Rows(&m, vals, validity, off, sel, 0, flip)
	return m ^ flip, n
}

// minMaxFloat64Generic is the reference of MinFloat64 (isMax false) and
// MaxFloat64.
func minMaxFloat64Generic(vals []float64, validity []byte, off int, sel []int32, isMax bool) (float64, int) {
	flip := keyFlip(isMax)
	m := int64(math.MinInt64)
	n := maxFloat64Rows(&m, vals, validity, off, sel, 0, flip)
	if n == 0 {
		return math.NaN(), 0
	}
	return keyFloat(m ^ flip), n
}

func minInt64Generic(v []int64, bm []byte, off int, sel []int32) (int64, int) {
	return minMaxInt64Generic(v, bm, off, sel, false)
}

func maxInt64Generic(v []int64, bm []byte, off int, sel []int32) (int64, int) {
	return minMaxInt64Generic(v, bm, off, sel, true)
}

func minFloat64Generic(v []float64, bm []byte, off int, sel []int32) (float64, int) {
	return minMaxFloat64Generic(v, bm, off, sel, false)
}

func maxFloat64Generic(v []float64, bm []byte, off int, sel []int32) (float64, int) {
	return minMaxFloat64Generic(v, bm, off, sel, true)
}

// installReduceGeneric points the package-level implementations at the
// references.
func installReduceGeneric() {
	sumInt64Impl = sumInt64Generic
	sumFloat64Impl = sumFloat64Generic
	minInt64Impl = minInt64Generic
	maxInt64Impl = maxInt64Generic
	minFloat64Impl = minFloat64Generic
	maxFloat64Impl = maxFloat64Generic
}
