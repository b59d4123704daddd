package kernels

import (
	"math"
	"math/rand"
	"runtime"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"github.com/velo-engine/velo/internal/guardmem"
)

var allOps = []Op{Eq, Ne, Lt, Le, Gt, Ge}

// cmpShort trims the sweep under qemu (arm64) and -short.
func cmpShort() bool { return testing.Short() || runtime.GOARCH == "arm64" }

// cmpOpHolds applies op to a three-way comparison result.
func cmpOpHolds(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	case Gt:
		return c > 0
	default:
		return c >= 0
	}
}

// Independent oracles: three-way comparisons. Floats: all NaNs are equal and
// above +Inf; -0.0 == 0.0 (float64 comparison of widened values).
func cmp3Int64(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmp3Int32(x, y int32) int { return cmp3Int64(int64(x), int64(y)) }

func cmp3Float64(x, y float64) int {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmp3Float32(x, y float32) int { return cmp3Float64(float64(x), float64(y)) }

func genInt64(r *rand.Rand) int64 {
	switch r.Intn(6) {
	case 0:
		return []int64{math.MinInt64, math.MaxInt64, math.MinInt64 + 1, math.MaxInt64 - 1, 0, -1}[r.Intn(6)]
	case 1:
		return r.Int63() - r.Int63()
	default:
		return int64(r.Intn(7) - 3)
	}
}

func genInt32(r *rand.Rand) int32 {
	switch r.Intn(6) {
	case 0:
		return []int32{math.MinInt32, math.MaxInt32, math.MinInt32 + 1, math.MaxInt32 - 1, 0, -1}[r.Intn(6)]
	case 1:
		return int32(r.Uint32())
	default:
		return int32(r.Intn(7) - 3)
	}
}

var specialFloat64 = []float64{
	math.NaN(), -math.NaN(), math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000123),
	math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
}

func genFloat64(r *rand.Rand) float64 {
	switch r.Intn(6) {
	case 0:
		return specialFloat64[r.Intn(len(specialFloat64))]
	case 1:
		return r.NormFloat64() * 1e6
	default:
		return float64(r.Intn(7)-3) / 2
	}
}

func genFloat32(r *rand.Rand) float32 {
	switch r.Intn(6) {
	case 0:
		return []float32{float32(math.NaN()), math.Float32frombits(0xffc00001), math.Float32frombits(0x7f800001),
			float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
			math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}[r.Intn(10)]
	case 1:
		return float32(r.NormFloat64() * 1e6)
	default:
		return float32(r.Intn(7)-3) / 2
	}
}

// cmpKit bundles one element type's kernels, generator, oracle and guarded
// allocator for the generic checks below.
type cmpKit[T any] struct {
	name      string
	gen       func(*rand.Rand) T
	cmp3      func(x, y T) int
	specials  []T
	guard     func(int) ([]T, func())
	scalar    func([]byte, []T, Op, T)
	col       func([]byte, []T, []T, Op)
	scalarSel func([]byte, []T, Op, T, []int32)
	colSel    func([]byte, []T, []T, Op, []int32)
}

var (
	kitInt64 = cmpKit[int64]{"Int64", genInt64, cmp3Int64, []int64{math.MinInt64, math.MaxInt64},
		guardmem.Int64s, CompareInt64Scalar, CompareInt64, CompareInt64ScalarSel, CompareInt64Sel}
	kitInt32 = cmpKit[int32]{"Int32", genInt32, cmp3Int32, []int32{math.MinInt32, math.MaxInt32},
		guardmem.Int32s, CompareInt32Scalar, CompareInt32, CompareInt32ScalarSel, CompareInt32Sel}
	kitFloat64 = cmpKit[float64]{"Float64", genFloat64, cmp3Float64, specialFloat64,
		guardmem.Float64s, CompareFloat64Scalar, CompareFloat64, CompareFloat64ScalarSel, CompareFloat64Sel}
	kitFloat32 = cmpKit[float32]{"Float32", genFloat32, cmp3Float32,
		[]float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1)), 0},
		guardmem.Float32s, CompareFloat32Scalar, CompareFloat32, CompareFloat32ScalarSel, CompareFloat32Sel}
)

// cmpCheckBits verifies dst against want for n rows: every bit, zero bits past
// n in the last byte.
func cmpCheckBits(t *testing.T, dst []byte, n int, want func(i int) bool, what string) {
	t.Helper()
	for i := 0; i < n; i++ {
		got := dst[i>>3]>>(i&7)&1 == 1
		if got != want(i) {
			t.Fatalf("%s: n=%d row %d: got %v want %v", what, n, i, got, want(i))
		}
	}
	if n&7 != 0 {
		require.Zero(t, dst[n>>3]>>(n&7), "%s: n=%d bits past n must be zero", what, n)
	}
}

// randomSel returns a selection over n rows: sorted subsets of several
// densities, unsorted with duplicates (mode 3) or ascending with
// duplicates (mode 4).
func randomSel(r *rand.Rand, n int) []int32 {
	if n == 0 {
		return nil
	}
	var sel []int32
	switch mode := r.Intn(5); mode {
	case 4: // ascending with duplicates
		for i := 0; i < n; i++ {
			for c := r.Intn(3); c > 0; c-- {
				sel = append(sel, int32(i))
			}
		}
	case 3:
		k := r.Intn(n + 1)
		for j := 0; j < k; j++ {
			sel = append(sel, int32(r.Intn(n)))
		}
	default:
		p := []float64{0.05, 0.5, 1}[mode]
		for i := 0; i < n; i++ {
			if r.Float64() < p {
				sel = append(sel, int32(i))
			}
		}
	}
	return sel
}

// run checks every operator and shape of kit for one length n: inputs at a
// random unaligned offset ending at a guard page; dst either ending at a
// guard page or followed by sentinel bytes that must stay untouched.
func (k cmpKit[T]) run(t *testing.T, r *rand.Rand, n int) {
	off := r.Intn(8)
	aBuf, freeA := k.guard(n + off)
	defer freeA()
	bBuf, freeB := k.guard(n + off)
	defer freeB()
	a, b := aBuf[off:], bBuf[off:]
	for i := range a {
		a[i] = k.gen(r)
		if r.Intn(4) == 0 {
			b[i] = a[i]
		} else {
			b[i] = k.gen(r)
		}
	}
	nb := BitmapBytes(n)
	gdst, freeD := guardmem.Bytes(nb)
	defer freeD()
	sdst := make([]byte, nb+3)
	dstFor := func(i int) (d []byte, check func()) {
		if i%2 == 0 {
			for j := range gdst {
				gdst[j] = byte(r.Intn(256))
			}
			return gdst, func() {}
		}
		for j := range sdst {
			sdst[j] = 0x5a
		}
		return sdst, func() { require.Equal(t, []byte{0x5a, 0x5a, 0x5a}, sdst[nb:], "bytes past the bitmap touched") }
	}
	scalars := append([]T{k.gen(r)}, k.specials...)
	if n > 0 {
		scalars = append(scalars, a[r.Intn(n)])
	}
	sel := randomSel(r, n)
	inSel := make([]bool, n)
	for _, i := range sel {
		inSel[i] = true
	}
	for oi, op := range allOps {
		for si, s := range scalars {
			d, check := dstFor(oi + si)
			k.scalar(d, a, op, s)
			cmpCheckBits(t, d, n, func(i int) bool { return cmpOpHolds(op, k.cmp3(a[i], s)) }, k.name+"Scalar "+op.String())
			check()
			d, check = dstFor(oi + si + 1)
			k.scalarSel(d, a, op, s, sel)
			cmpCheckBits(t, d, n, func(i int) bool { return inSel[i] && cmpOpHolds(op, k.cmp3(a[i], s)) }, k.name+"ScalarSel "+op.String())
			check()
		}
		d, check := dstFor(oi)
		k.col(d, a, b, op)
		cmpCheckBits(t, d, n, func(i int) bool { return cmpOpHolds(op, k.cmp3(a[i], b[i])) }, k.name+" "+op.String())
		check()
		d, check = dstFor(oi + 1)
		k.colSel(d, a, b, op, sel)
		cmpCheckBits(t, d, n, func(i int) bool { return inSel[i] && cmpOpHolds(op, k.cmp3(a[i], b[i])) }, k.name+"Sel "+op.String())
		check()
	}
}

func cmpLengths() []int {
	var ns []int
	step := 1
	if cmpShort() {
		step = 7
	}
	for n := 0; n <= 300; n++ {
		if n <= 70 || n%step == 0 || n == 300 {
			ns = append(ns, n)
		}
	}
	ns = append(ns, 4099)
	if !cmpShort() {
		ns = append(ns, 1<<16+3)
	}
	return ns
}

func TestCompareDifferential(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewSource(int64(l) + 1))
		for _, n := range cmpLengths() {
			kitInt64.run(t, r, n)
			kitInt32.run(t, r, n)
			kitFloat64.run(t, r, n)
			kitFloat32.run(t, r, n)
		}
	})
}

// TestCompareFloatRules pins DuckDB's float rules with hand-written cases.
func TestCompareFloatRules(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	negz := math.Copysign(0, -1)
	cases := []struct {
		x, y float64
		want string // results for = <> < <= > >= as 0/1
	}{
		{nan, nan, "100101"},
		{nan, 1, "010011"},
		{1, nan, "011100"},
		{nan, inf, "010011"},
		{-inf, nan, "011100"},
		{negz, 0, "100101"},
		{1, 2, "011100"},
		{2, 1, "010011"},
	}
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, c := range cases {
			for _, n := range []int{1, 9, 64} {
				xs, ys := make([]float64, n), make([]float64, n)
				xs32, ys32 := make([]float32, n), make([]float32, n)
				for i := range xs {
					xs[i], ys[i] = c.x, c.y
					xs32[i], ys32[i] = float32(c.x), float32(c.y)
				}
				dst := make([]byte, BitmapBytes(n))
				for oi, op := range allOps {
					want := c.want[oi] == '1'
					CompareFloat64Scalar(dst, xs, op, c.y)
					require.Equal(t, want, dst[(n-1)>>3]>>((n-1)&7)&1 == 1, "%v %s %v (scalar, n=%d)", c.x, op, c.y, n)
					CompareFloat64(dst, xs, ys, op)
					require.Equal(t, want, dst[(n-1)>>3]>>((n-1)&7)&1 == 1, "%v %s %v (column, n=%d)", c.x, op, c.y, n)
					CompareFloat32Scalar(dst, xs32, op, float32(c.y))
					require.Equal(t, want, dst[(n-1)>>3]>>((n-1)&7)&1 == 1, "%v %s %v (float32 scalar, n=%d)", c.x, op, c.y, n)
					CompareFloat32(dst, xs32, ys32, op)
					require.Equal(t, want, dst[(n-1)>>3]>>((n-1)&7)&1 == 1, "%v %s %v (float32 column, n=%d)", c.x, op, c.y, n)
				}
			}
		}
	})
}

func TestCompareHandComputed(t *testing.T) {
	a := []int64{5, -3, 7, 7, 0, math.MinInt64, math.MaxInt64, 2, 9, 7}
	forEachLevel(t, func(t *testing.T, l Level) {
		dst := make([]byte, 2)
		CompareInt64Scalar(dst, a, Lt, 7) // rows 0,1,4,5,7
		require.Equal(t, []byte{0b10110011, 0b00}, dst)
		CompareInt64Scalar(dst, a, Ge, 7) // rows 2,3,6,8,9
		require.Equal(t, []byte{0b01001100, 0b11}, dst)
		CompareInt64ScalarSel(dst, a, Eq, 7, []int32{9, 2})
		require.Equal(t, []byte{0b00000100, 0b10}, dst)
	})
}

func TestCompareOpString(t *testing.T) {
	want := []string{"=", "<>", "<", "<=", ">", ">="}
	for i, op := range allOps {
		require.Equal(t, want[i], op.String())
		require.Equal(t, op, op.Swap().Swap())
		require.Equal(t, op, op.Negate().Negate())
	}
	require.Equal(t, "Op(9)", Op(9).String())
	require.Equal(t, Gt, Lt.Swap())
	require.Equal(t, Ge, Lt.Negate())
}

func TestCompareArgumentChecks(t *testing.T) {
	a := make([]int64, 9)
	require.PanicsWithValue(t, "kernels: Compare: dst shorter than BitmapBytes(len(a))", func() { CompareInt64Scalar(make([]byte, 1), a, Eq, 0) })
	require.PanicsWithValue(t, "kernels: Compare: len(a) != len(b)", func() { CompareInt64(make([]byte, 2), a, a[:8], Eq) })
	require.Panics(t, func() { CompareInt64Scalar(make([]byte, 2), a, Op(6), 0) })
	forEachLevel(t, func(t *testing.T, l Level) {
		require.Panics(t, func() { CompareInt64ScalarSel(make([]byte, 2), a, Eq, 0, []int32{9}) })
		require.Panics(t, func() { CompareFloat64Sel(make([]byte, 2), make([]float64, 9), make([]float64, 9), Eq, []int32{-1}) })
		dense := []int32{0, 1, 2, 3, 4, 5, 6, 7, 8}
		require.Panics(t, func() { CompareInt64ScalarSel(make([]byte, 2), a, Eq, 0, append(dense, 9)) })
		require.Panics(t, func() { CompareInt64ScalarSel(make([]byte, 2), a, Eq, 0, append(dense, 100)) })
		require.Panics(t, func() { CompareInt64ScalarSel(make([]byte, 2), a, Eq, 0, append(dense, -1)) })
	})
}

func TestCompareAllocs(t *testing.T) {
	const n = 1000
	a, b := make([]int64, n), make([]int64, n)
	f, g := make([]float64, n), make([]float64, n)
	a32, f32 := make([]int32, n), make([]float32, n)
	dst := make([]byte, BitmapBytes(n))
	sel := []int32{1, 5, 900}
	forEachLevel(t, func(t *testing.T, l Level) {
		require.Zero(t, testing.AllocsPerRun(20, func() {
			CompareInt64Scalar(dst, a, Lt, 3)
			CompareInt64(dst, a, b, Ge)
			CompareFloat64Scalar(dst, f, Gt, math.NaN())
			CompareFloat64(dst, f, g, Ne)
			CompareInt32Scalar(dst, a32, Le, 1)
			CompareFloat32Scalar(dst, f32, Eq, 1)
			CompareInt64ScalarSel(dst, a, Eq, 0, sel)
		}))
	})
}

// FuzzCompare decodes values from the fuzz input and checks every level
// against the oracle.
func FuzzCompare(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, uint8(2), int64(3))
	f.Add(make([]byte, 200), uint8(0), int64(0))
	nanb := make([]byte, 96)
	for i := 0; i < 96; i += 8 {
		copy(nanb[i:], []byte{1, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	}
	f.Add(nanb, uint8(4), int64(0x7ff8000000000001))
	f.Fuzz(func(t *testing.T, data []byte, opb uint8, sbits int64) {
		op := Op(opb % 6)
		n := len(data) / 8
		a, fa := make([]int64, n), make([]float64, n)
		b, fb := make([]int64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			var v uint64
			for j := 0; j < 8; j++ {
				v |= uint64(data[i*8+j]) << (8 * j)
			}
			a[i], fa[i] = int64(v), math.Float64frombits(v)
			w := v>>32 | v<<32
			if i%3 == 0 {
				w = v
			}
			b[i], fb[i] = int64(w), math.Float64frombits(w)
		}
		s, fs := sbits, math.Float64frombits(uint64(sbits))
		dst := make([]byte, BitmapBytes(n))
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			CompareInt64Scalar(dst, a, op, s)
			cmpCheckBits(t, dst, n, func(i int) bool { return cmpOpHolds(op, cmp3Int64(a[i], s)) }, "fuzz int64 scalar "+l.String())
			CompareInt64(dst, a, b, op)
			cmpCheckBits(t, dst, n, func(i int) bool { return cmpOpHolds(op, cmp3Int64(a[i], b[i])) }, "fuzz int64 "+l.String())
			CompareFloat64Scalar(dst, fa, op, fs)
			cmpCheckBits(t, dst, n, func(i int) bool { return cmpOpHolds(op, cmp3Float64(fa[i], fs)) }, "fuzz float64 scalar "+l.String())
			CompareFloat64(dst, fa, fb, op)
			cmpCheckBits(t, dst, n, func(i int) bool { return cmpOpHolds(op, cmp3Float64(fa[i], fb[i])) }, "fuzz float64 "+l.String())
			restore()
		}
	})
}

func init() {
	const n = 8192
	r := rand.New(rand.NewSource(7))
	for _, size := range []int{n, 1 << 20} {
		big := size > n
		sz := size
		name := "N=" + strconv.Itoa(size)
		registerBench(benchCase{name: "compare/Int64Scalar/" + name, n: sz, bytes: int64(8 * sz), big: big, setup: func() (func(), func()) {
			a := make([]int64, sz)
			for i := range a {
				a[i] = r.Int63n(1000)
			}
			dst := make([]byte, BitmapBytes(sz))
			return func() { CompareInt64Scalar(dst, a, Lt, 500) }, nil
		}})
		registerBench(benchCase{name: "compare/Float64Scalar/" + name, n: sz, bytes: int64(8 * sz), big: big, setup: func() (func(), func()) {
			a := make([]float64, sz)
			for i := range a {
				a[i] = r.Float64() * 1000
			}
			dst := make([]byte, BitmapBytes(sz))
			return func() { CompareFloat64Scalar(dst, a, Gt, 100) }, nil
		}})
	}
	registerBench(benchCase{name: "compare/Int32Scalar/N=8192", n: n, bytes: 4 * n, setup: func() (func(), func()) {
		a := make([]int32, n)
		for i := range a {
			a[i] = r.Int31n(1000)
		}
		dst := make([]byte, BitmapBytes(n))
		return func() { CompareInt32Scalar(dst, a, Le, 500) }, nil
	}})
	registerBench(benchCase{name: "compare/Float32Scalar/N=8192", n: n, bytes: 4 * n, setup: func() (func(), func()) {
		a := make([]float32, n)
		for i := range a {
			a[i] = r.Float32()
		}
		dst := make([]byte, BitmapBytes(n))
		return func() { CompareFloat32Scalar(dst, a, Ge, 0.5) }, nil
	}})
	registerBench(benchCase{name: "compare/Int64Col/N=8192", n: n, bytes: 16 * n, setup: func() (func(), func()) {
		a, b := make([]int64, n), make([]int64, n)
		for i := range a {
			a[i], b[i] = r.Int63n(100), r.Int63n(100)
		}
		dst := make([]byte, BitmapBytes(n))
		return func() { CompareInt64(dst, a, b, Lt) }, nil
	}})
	registerBench(benchCase{name: "compare/Float64Col/N=8192", n: n, bytes: 16 * n, setup: func() (func(), func()) {
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i], b[i] = r.Float64(), r.Float64()
		}
		dst := make([]byte, BitmapBytes(n))
		return func() { CompareFloat64(dst, a, b, Le) }, nil
	}})
	registerBench(benchCase{name: "compare/Int32Col/N=8192", n: n, bytes: 8 * n, setup: func() (func(), func()) {
		a, b := make([]int32, n), make([]int32, n)
		for i := range a {
			a[i], b[i] = r.Int31n(100), r.Int31n(100)
		}
		dst := make([]byte, BitmapBytes(n))
		return func() { CompareInt32(dst, a, b, Gt) }, nil
	}})
	registerBench(benchCase{name: "compare/Float32Col/N=8192", n: n, bytes: 8 * n, setup: func() (func(), func()) {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = r.Float32(), r.Float32()
		}
		dst := make([]byte, BitmapBytes(n))
		return func() { CompareFloat32(dst, a, b, Eq) }, nil
	}})
	registerBench(benchCase{name: "compare/Int64ScalarSel/N=8192", n: n, bytes: 8 * n, setup: func() (func(), func()) {
		a := make([]int64, n)
		var sel []int32
		for i := range a {
			a[i] = r.Int63n(1000)
			if r.Intn(2) == 0 {
				sel = append(sel, int32(i))
			}
		}
		dst := make([]byte, BitmapBytes(n))
		return func() { CompareInt64ScalarSel(dst, a, Lt, 500, sel) }, nil
	}})
}
