package kernels

import (
	"math"
	"math/bits"
	"math/rand"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"github.com/velo-engine/velo/internal/guardmem"
)

// selBit is the oracle's bit reader.
func selBit(bm []byte, i int) bool { return bm[i>>3]>>(i&7)&1 == 1 }

// selRandomBitmap fills b with bits of density p (p < 0: random bytes); the
// bits past n in the last byte are set, which every kernel must ignore.
func selRandomBitmap(r *rand.Rand, b []byte, n int, p float64) {
	for i := range b {
		b[i] = 0
	}
	for i := 0; i < len(b)*8; i++ {
		if i >= n || (p < 0 && r.Intn(2) == 0) || r.Float64() < p {
			b[i>>3] |= 1 << (i & 7)
		}
	}
}

var selDensities = []float64{0, 0.03, 0.5, 0.97, 1, -1}

func TestCompressDifferential(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewSource(int64(l) + 11))
		for _, n := range cmpLengths() {
			for _, p := range selDensities {
				off := r.Intn(8)
				bmBuf, freeB := guardmem.Bytes(BitmapBytes(n) + off)
				bm := bmBuf[off:]
				selRandomBitmap(r, bm, n, p)
				dst, freeD := guardmem.Int32s(n)
				var want []int32
				for i := 0; i < n; i++ {
					if selBit(bm, i) {
						want = append(want, int32(i))
					}
				}
				c := Compress(dst, bm, n)
				require.Equal(t, len(want), c, "n=%d p=%v", n, p)
				if c > 0 {
					require.Equal(t, want, dst[:c], "n=%d p=%v", n, p)
				}
				require.Equal(t, c, PopCount(bm, n), "PopCount n=%d p=%v", n, p)
				freeD()
				freeB()
			}
		}
	})
}

func TestBitmapOpsDifferential(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewSource(int64(l) + 21))
		// the vector routines work on 32- and 64-byte blocks: add lengths
		// with several blocks and every tail.
		lengths := append(cmpLengths(), 512, 513, 1023, 1031, 1536+17, 2047)
		for li, n := range lengths {
			nb := BitmapBytes(n)
			off := r.Intn(8)
			aBuf, fa := guardmem.Bytes(nb + off)
			bBuf, fb := guardmem.Bytes(nb + off)
			dBuf, fd := guardmem.Bytes(nb)
			a, b, d := aBuf[off:], bBuf[off:], dBuf
			selRandomBitmap(r, a, n, selDensities[li%len(selDensities)])
			selRandomBitmap(r, b, n, selDensities[(li/len(selDensities))%len(selDensities)])
			ops := []struct {
				name string
				f    func(dst, a, b []byte, n int)
				o    func(x, y bool) bool
			}{
				{"And", And, func(x, y bool) bool { return x && y }},
				{"Or", Or, func(x, y bool) bool { return x || y }},
				{"AndNot", AndNot, func(x, y bool) bool { return x && !y }},
			}
			for _, op := range ops {
				for i := range d {
					d[i] = byte(r.Intn(256))
				}
				op.f(d, a, b, n)
				cmpCheckBits(t, d, n, func(i int) bool { return op.o(selBit(a, i), selBit(b, i)) }, op.name)
				// in place: dst == a
				a2 := append([]byte(nil), a...)
				op.f(a2, a2, b, n)
				cmpCheckBits(t, a2, n, func(i int) bool { return op.o(selBit(a, i), selBit(b, i)) }, op.name+" in place")
			}
			fd()
			fb()
			fa()
		}
	})
}

func TestCopyBitmap(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, n := range cmpLengths() {
		for _, off := range []int{0, 1, 3, 7, 8, 13, 64, 71} {
			sBuf, fs := guardmem.Bytes(BitmapBytes(off + n))
			selRandomBitmap(r, sBuf, off+n, -1)
			d, fd := guardmem.Bytes(BitmapBytes(n))
			for i := range d {
				d[i] = 0xff
			}
			CopyBitmap(d, sBuf, off, n)
			cmpCheckBits(t, d, n, func(i int) bool { return selBit(sBuf, off+i) }, "CopyBitmap off="+strconv.Itoa(off))
			fd()
			fs()
		}
	}
}

func TestTakeDifferential(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewSource(int64(l) + 31))
		for _, n := range cmpLengths() {
			srcN := 1 + r.Intn(n+1)
			s64, f1 := guardmem.Int64s(srcN)
			s32, f2 := guardmem.Int32s(srcN)
			for i := range s64 {
				s64[i] = r.Int63() - r.Int63()
				s32[i] = int32(r.Uint32())
			}
			off := r.Intn(8)
			selBuf, f3 := guardmem.Int32s(n + off)
			sel := selBuf[off:]
			for k := range sel {
				sel[k] = int32(r.Intn(srcN))
				if k%5 == 0 {
					sel[k] = int32([]int{0, srcN - 1}[r.Intn(2)])
				}
			}
			d64, f4 := guardmem.Int64s(n)
			d32, f5 := guardmem.Int32s(n)
			TakeInt64(d64, s64, sel)
			TakeInt32(d32, s32, sel)
			for k, i := range sel {
				require.Equal(t, s64[i], d64[k])
				require.Equal(t, s32[i], d32[k])
			}
			df := make([]float64, n)
			sf := unsafeFloat64s(s64)
			TakeFloat64(df, sf, sel)
			du := make([]uint32, n)
			TakeUint32(du, unsafeUint32s(s32), sel)
			for k, i := range sel {
				require.Equal(t, math.Float64bits(sf[i]), math.Float64bits(df[k]))
				require.Equal(t, uint32(s32[i]), du[k])
			}
			f5()
			f4()
			f3()
			f2()
			f1()
		}
	})
}

func unsafeFloat64s(s []int64) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = math.Float64frombits(uint64(v))
	}
	return out
}

func unsafeUint32s(s []int32) []uint32 {
	out := make([]uint32, len(s))
	for i, v := range s {
		out[i] = uint32(v)
	}
	return out
}

func TestTakeOutOfRangePanics(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		src := make([]int64, 40)
		src32 := make([]int32, 40)
		for _, bad := range []int32{40, -1, math.MaxInt32, math.MinInt32} {
			for _, pos := range []int{0, 5, 17, 33} {
				sel := make([]int32, 40)
				for k := range sel {
					sel[k] = int32(k)
				}
				sel[pos] = bad
				require.Panics(t, func() { TakeInt64(make([]int64, 40), src, sel) }, "bad=%d pos=%d", bad, pos)
				require.Panics(t, func() { TakeInt32(make([]int32, 40), src32, sel) }, "bad=%d pos=%d", bad, pos)
			}
		}
		require.Panics(t, func() { TakeInt64(make([]int64, 9), nil, make([]int32, 9)) })
		require.Panics(t, func() { TakeInt64(make([]int64, 1), src, make([]int32, 2)) })
	})
}

func TestSelectArgumentChecks(t *testing.T) {
	require.PanicsWithValue(t, "kernels: Compress: dst shorter than n", func() { Compress(make([]int32, 8), make([]byte, 2), 9) })
	require.PanicsWithValue(t, "kernels: Compress: bitmap shorter than BitmapBytes(n)", func() { Compress(make([]int32, 9), make([]byte, 1), 9) })
	require.Panics(t, func() { And(make([]byte, 1), make([]byte, 2), make([]byte, 2), 9) })
	require.Panics(t, func() { PopCount(make([]byte, 1), 9) })
	require.Panics(t, func() { CopyBitmap(make([]byte, 2), make([]byte, 2), 1, 16) })
}

func TestSelectHandComputed(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		bm := []byte{0b10100001, 0xff, 0, 0b1}
		dst := make([]int32, 25)
		c := Compress(dst, bm, 25)
		require.Equal(t, []int32{0, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 24}, dst[:c])
		require.Equal(t, 11, PopCount(bm, 24))
		d := make([]byte, 1)
		AndNot(d, []byte{0b1111}, []byte{0b0101}, 3)
		require.Equal(t, []byte{0b010}, d)
	})
}

// TestCompareThenCompress is the filter path: a filter after a filter, with
// validity, through the public API only.
func TestCompareThenCompress(t *testing.T) {
	const n = 1000
	a := make([]int64, n)
	b := make([]float64, n)
	valid := make([]byte, BitmapBytes(n)+1)
	r := rand.New(rand.NewSource(9))
	for i := range a {
		a[i] = int64(r.Intn(100))
		b[i] = r.Float64()
	}
	selRandomBitmap(r, valid, n+3, 0.8)
	forEachLevel(t, func(t *testing.T, l Level) {
		bm := make([]byte, BitmapBytes(n))
		CompareInt64Scalar(bm, a, Lt, 50)
		vb := make([]byte, BitmapBytes(n))
		CopyBitmap(vb, valid, 3, n)
		And(bm, bm, vb, n)
		sel := make([]int32, n)
		sel = sel[:Compress(sel, bm, n)]
		CompareFloat64ScalarSel(bm, b, Ge, 0.5, sel)
		sel2 := make([]int32, n)
		sel2 = sel2[:Compress(sel2, bm, n)]
		var want []int32
		for i := 0; i < n; i++ {
			if a[i] < 50 && selBit(valid, i+3) && b[i] >= 0.5 {
				want = append(want, int32(i))
			}
		}
		require.Equal(t, want, sel2)
	})
}

func TestSelectAllocs(t *testing.T) {
	const n = 5000
	bm := make([]byte, BitmapBytes(n))
	for i := range bm {
		bm[i] = byte(i * 7)
	}
	sel := make([]int32, n)
	src := make([]int64, n)
	dst := make([]int64, n)
	src32, dst32 := make([]int32, n), make([]int32, n)
	forEachLevel(t, func(t *testing.T, l Level) {
		require.Zero(t, testing.AllocsPerRun(20, func() {
			c := Compress(sel, bm, n)
			TakeInt64(dst, src, sel[:c])
			TakeInt32(dst32, src32, sel[:c])
			And(bm, bm, bm, n)
			_ = PopCount(bm, n)
		}))
	})
}

// FuzzSelect checks Compress, PopCount, the bitmap operators and Take at
// every level against oracles on fuzzer-chosen bitmaps.
func FuzzSelect(f *testing.F) {
	f.Add([]byte{0xff, 0, 0x81, 0x7e, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint16(100))
	f.Add(make([]byte, 70), uint16(555))
	f.Fuzz(func(t *testing.T, data []byte, nbits uint16) {
		n := int(nbits) % (len(data)*8 + 1)
		nb := BitmapBytes(n)
		a := data[:nb]
		b := make([]byte, nb)
		for i := range b {
			b[i] = bits.RotateLeft8(a[i], 3) ^ byte(i)
		}
		src := make([]int64, n+1)
		for i := range src {
			src[i] = int64(i) * 1000003
		}
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			sel := make([]int32, n)
			c := Compress(sel, a, n)
			k := 0
			for i := 0; i < n; i++ {
				if selBit(a, i) {
					require.Equal(t, int32(i), sel[k])
					k++
				}
			}
			require.Equal(t, k, c)
			require.Equal(t, k, PopCount(a, n))
			d := make([]byte, nb)
			And(d, a, b, n)
			cmpCheckBits(t, d, n, func(i int) bool { return selBit(a, i) && selBit(b, i) }, "fuzz And")
			AndNot(d, a, b, n)
			cmpCheckBits(t, d, n, func(i int) bool { return selBit(a, i) && !selBit(b, i) }, "fuzz AndNot")
			out := make([]int64, c)
			TakeInt64(out, src, sel[:c])
			for j, i := range sel[:c] {
				require.Equal(t, src[i], out[j])
			}
			restore()
		}
	})
}

func init() {
	const n = 8192
	r := rand.New(rand.NewSource(3))
	randBitmap := func(nbits int, p float64) []byte {
		bm := make([]byte, BitmapBytes(nbits))
		for i := 0; i < nbits; i++ {
			if r.Float64() < p {
				bm[i>>3] |= 1 << (i & 7)
			}
		}
		return bm
	}
	for _, p := range []float64{0.5, 0.05} {
		registerBench(benchCase{name: "select/Compress/p=" + strconv.FormatFloat(p, 'f', -1, 64) + "/N=8192", n: n, bytes: n / 8, setup: func() (func(), func()) {
			bm := randBitmap(n, p)
			dst := make([]int32, n)
			return func() { Compress(dst, bm, n) }, nil
		}})
	}
	registerBench(benchCase{name: "select/PopCount/N=8192", n: n, bytes: n / 8, setup: func() (func(), func()) {
		bm := randBitmap(n, 0.5)
		return func() { PopCount(bm, n) }, nil
	}})
	registerBench(benchCase{name: "select/And/N=8192", n: n, bytes: 2 * n / 8, setup: func() (func(), func()) {
		a, b, d := randBitmap(n, 0.5), randBitmap(n, 0.5), make([]byte, n/8)
		return func() { And(d, a, b, n) }, nil
	}})
	registerBench(benchCase{name: "select/And/N=1048576", n: 1 << 20, bytes: 2 << 20 / 8, big: true, setup: func() (func(), func()) {
		a, b, d := randBitmap(1<<20, 0.5), randBitmap(1<<20, 0.5), make([]byte, 1<<17)
		return func() { And(d, a, b, 1<<20) }, nil
	}})
	// Take: a filter's selection (ascending, ~50 % of the rows) at n=8192 and
	// random indices into a 1 Mi-row column (cache-missing).
	registerBench(benchCase{name: "select/TakeInt64/sorted/N=8192", n: n / 2, bytes: 6 * n, setup: func() (func(), func()) {
		src, dst, sel := make([]int64, n), make([]int64, n), make([]int32, 0, n)
		for i := range src {
			if r.Intn(2) == 0 {
				sel = append(sel, int32(i))
			}
		}
		return func() { TakeInt64(dst, src, sel) }, nil
	}})
	registerBench(benchCase{name: "select/TakeInt32/sorted/N=8192", n: n / 2, bytes: 4 * n, setup: func() (func(), func()) {
		src, dst, sel := make([]int32, n), make([]int32, n), make([]int32, 0, n)
		for i := range src {
			if r.Intn(2) == 0 {
				sel = append(sel, int32(i))
			}
		}
		return func() { TakeInt32(dst, src, sel) }, nil
	}})
	for _, size := range []int{n, 1 << 20} {
		sz := size
		registerBench(benchCase{name: "select/TakeInt64/random/N=" + strconv.Itoa(sz), n: sz, bytes: int64(12 * sz), big: sz > n, setup: func() (func(), func()) {
			src, dst, sel := make([]int64, sz), make([]int64, sz), make([]int32, sz)
			for i := range sel {
				sel[i] = int32(r.Intn(sz))
			}
			return func() { TakeInt64(dst, src, sel) }, nil
		}})
		registerBench(benchCase{name: "select/TakeInt32/random/N=" + strconv.Itoa(sz), n: sz, bytes: int64(8 * sz), big: sz > n, setup: func() (func(), func()) {
			src, dst, sel := make([]int32, sz), make([]int32, sz), make([]int32, sz)
			for i := range sel {
				sel[i] = int32(r.Intn(sz))
			}
			return func() { TakeInt32(dst, src, sel) }, nil
		}})
	}
	// The target: compare-to-scalar + compress of one 8192-row batch
	// (selectivity ~50 %); elems/s is rows/s.
	registerBench(benchCase{name: "select/CompareCompress/Int64/N=8192", n: n, bytes: 8 * n, setup: func() (func(), func()) {
		a := make([]int64, n)
		for i := range a {
			a[i] = r.Int63n(1000)
		}
		bm, sel := make([]byte, n/8), make([]int32, n)
		return func() {
			CompareInt64Scalar(bm, a, Lt, 500)
			Compress(sel, bm, n)
		}, nil
	}})
	registerBench(benchCase{name: "select/CompareCompress/Float64/N=8192", n: n, bytes: 8 * n, setup: func() (func(), func()) {
		a := make([]float64, n)
		for i := range a {
			a[i] = r.Float64() * 1000
		}
		bm, sel := make([]byte, n/8), make([]int32, n)
		return func() {
			CompareFloat64Scalar(bm, a, Gt, 500)
			Compress(sel, bm, n)
		}, nil
	}})
}
