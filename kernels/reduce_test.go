package kernels

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/internal/guardmem"
)

// ---------------------------------------------------------------------------
// Test inputs.

// redInts returns n int64s from one of several distributions (small, full
// range, near the extremes) chosen by mode.
func redInts(rng *rand.Rand, n, mode int) []int64 {
	v := make([]int64, n)
	for i := range v {
		switch mode % 3 {
		case 0:
			v[i] = rng.Int64N(2001) - 1000
		case 1:
			v[i] = int64(rng.Uint64())
		default:
			switch rng.IntN(4) {
			case 0:
				v[i] = math.MaxInt64 - rng.Int64N(3)
			case 1:
				v[i] = math.MinInt64 + rng.Int64N(3)
			default:
				v[i] = rng.Int64N(1<<40) - 1<<39
			}
		}
	}
	return v
}

// redSpecials are float values whose handling the contract pins down.
var redSpecials = []float64{
	math.NaN(), -math.NaN(), math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000123),
	0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e16, -1e16, 1, -1,
}

// redFloats returns n float64s; mode 1 mixes in the specials, mode 2 mixes
// magnitudes so that the order of additions changes the rounded sum.
func redFloats(rng *rand.Rand, n, mode int) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch mode % 3 {
		case 0:
			v[i] = rng.NormFloat64() * 100
		case 1:
			if rng.IntN(8) == 0 {
				v[i] = redSpecials[rng.IntN(len(redSpecials))]
			} else {
				v[i] = rng.NormFloat64()
			}
		default:
			v[i] = float64(rng.IntN(3)-1)*1e16 + rng.Float64()
		}
	}
	return v
}

// redBitmap returns a bitmap for rows [off, off+n): nil, all valid, all null
// or random (density ~ 1/2 or ~ 7/8), by mode.
func redBitmap(rng *rand.Rand, n, off, mode int) []byte {
	if mode == 0 {
		return nil
	}
	bm := make([]byte, (off+n+7)/8)
	for i := range bm {
		switch mode {
		case 1:
			bm[i] = 0xff
		case 2:
			bm[i] = 0
		case 3:
			bm[i] = byte(rng.Uint32())
		default:
			bm[i] = byte(rng.Uint32() | rng.Uint32() | rng.Uint32())
		}
	}
	return bm
}

// redSel returns a selection over n rows: nil, ascending subset, random with
// repeats, by mode.
func redSel(rng *rand.Rand, n, mode int) []int32 {
	switch mode {
	case 0:
		return nil
	case 1:
		s := []int32{}
		for i := 0; i < n; i++ {
			if rng.IntN(3) != 0 {
				s = append(s, int32(i))
			}
		}
		return s
	default:
		if n == 0 {
			return []int32{}
		}
		s := make([]int32, rng.IntN(2*n+1))
		for i := range s {
			s[i] = int32(rng.IntN(n))
		}
		return s
	}
}

// ---------------------------------------------------------------------------
// Independent oracles.

// redContributing lists, in candidate order, (candidate index, row) of the
// rows that contribute.
func redContributing(n int, validity []byte, off int, sel []int32) (cand, rows []int) {
	if sel == nil {
		for i := 0; i < n; i++ {
			if validity == nil || validity[(off+i)/8]&(1<<((off+i)%8)) != 0 {
				cand, rows = append(cand, i), append(rows, i)
			}
		}
		return
	}
	for k, r := range sel {
		if validity == nil || validity[(off+int(r))/8]&(1<<((off+int(r))%8)) != 0 {
			cand, rows = append(cand, k), append(rows, int(r))
		}
	}
	return
}

// redBigSum is SumInt64's oracle with math/big.
func redBigSum(vals []int64, validity []byte, off int, sel []int32) (int64, int, bool) {
	_, rows := redContributing(len(vals), validity, off, sel)
	s := new(big.Int)
	for _, r := range rows {
		s.Add(s, big.NewInt(vals[r]))
	}
	if !s.IsInt64() {
		// Low 64 bits, as SumInt64 reports them on overflow.
		m := new(big.Int).And(s, new(big.Int).SetUint64(math.MaxUint64))
		return int64(m.Uint64()), len(rows), true
	}
	return s.Int64(), len(rows), false
}

// redFloatLess is the documented total order, written with comparisons.
func redFloatLess(a, b float64) bool {
	switch {
	case b != b:
		return a == a
	case a != a:
		return false
	case a == 0 && b == 0:
		return math.Signbit(a) && !math.Signbit(b)
	}
	return a < b
}

// redMinMaxFloat is MinFloat64/MaxFloat64's oracle.
func redMinMaxFloat(vals []float64, validity []byte, off int, sel []int32, isMax bool) (float64, int) {
	_, rows := redContributing(len(vals), validity, off, sel)
	if len(rows) == 0 {
		return math.NaN(), 0
	}
	m := vals[rows[0]]
	for _, r := range rows[1:] {
		if v := vals[r]; isMax && redFloatLess(m, v) || !isMax && redFloatLess(v, m) {
			m = v
		}
	}
	if m != m {
		m = math.NaN()
	}
	return m, len(rows)
}

// redLaneSum is SumFloat64's oracle: lanes by candidate index, pairwise tree.
func redLaneSum(vals []float64, validity []byte, off int, sel []int32) (float64, int) {
	cand, rows := redContributing(len(vals), validity, off, sel)
	var lanes [16]float64
	for k := range lanes {
		lanes[k] = math.Copysign(0, -1)
	}
	for j, k := range cand {
		lanes[k%16] += vals[rows[j]]
	}
	w := lanes[:]
	for len(w) > 1 {
		h := len(w) / 2
		next := make([]float64, h)
		for i := 0; i < h; i++ {
			next[i] = w[i] + w[i+h]
		}
		w = next
	}
	if math.IsNaN(w[0]) {
		return math.NaN(), len(cand)
	}
	return w[0], len(cand)
}

// ---------------------------------------------------------------------------
// Checks.

func redSame(t *testing.T, what string, want, got float64) {
	t.Helper()
	if math.Float64bits(want) != math.Float64bits(got) {
		t.Fatalf("%s: want %v (%#x), got %v (%#x)", what, want, math.Float64bits(want), got, math.Float64bits(got))
	}
}

// redCheckAll runs every reduction on one input against the references and
// (for sums and float min/max) the independent oracles.
func redCheckAll(t *testing.T, iv []int64, fv []float64, validity []byte, off int, sel []int32, what string) {
	t.Helper()
	s, n, ovf := SumInt64(iv, validity, off, sel)
	ws, wn, wovf := sumInt64Generic(iv, validity, off, sel)
	if s != ws || n != wn || ovf != wovf {
		t.Fatalf("%s SumInt64: want (%d,%d,%v), got (%d,%d,%v)", what, ws, wn, wovf, s, n, ovf)
	}
	if bs, bn, bovf := redBigSum(iv, validity, off, sel); bs != s || bn != n || bovf != ovf {
		t.Fatalf("%s SumInt64 vs math/big: want (%d,%d,%v), got (%d,%d,%v)", what, bs, bn, bovf, s, n, ovf)
	}
	if c := Count(len(iv), validity, off, sel); c != n {
		t.Fatalf("%s Count: want %d, got %d", what, n, c)
	}
	for _, isMax := range []bool{false, true} {
		var m, wm int64
		var mn, wmn int
		if isMax {
			m, mn = MaxInt64(iv, validity, off, sel)
		} else {
			m, mn = MinInt64(iv, validity, off, sel)
		}
		wm, wmn = minMaxInt64Generic(iv, validity, off, sel, isMax)
		if m != wm || mn != wmn || mn != n {
			t.Fatalf("%s MinMaxInt64(max=%v): want (%d,%d), got (%d,%d)", what, isMax, wm, wmn, m, mn)
		}
	}

	f, fn := SumFloat64(fv, validity, off, sel)
	wf, wfn := sumFloat64Generic(fv, validity, off, sel)
	redSame(t, what+" SumFloat64", wf, f)
	of, ofn := redLaneSum(fv, validity, off, sel)
	redSame(t, what+" SumFloat64 vs lane oracle", of, f)
	if fn != wfn || fn != ofn {
		t.Fatalf("%s SumFloat64 n: want %d, got %d", what, wfn, fn)
	}
	for _, isMax := range []bool{false, true} {
		var m float64
		var mn int
		if isMax {
			m, mn = MaxFloat64(fv, validity, off, sel)
		} else {
			m, mn = MinFloat64(fv, validity, off, sel)
		}
		wm, wmn := minMaxFloat64Generic(fv, validity, off, sel, isMax)
		redSame(t, fmt.Sprintf("%s MinMaxFloat64(max=%v)", what, isMax), wm, m)
		om, omn := redMinMaxFloat(fv, validity, off, sel, isMax)
		redSame(t, fmt.Sprintf("%s MinMaxFloat64(max=%v) vs oracle", what, isMax), om, m)
		if mn != wmn || mn != omn {
			t.Fatalf("%s MinMaxFloat64 n: want %d, got %d", what, wmn, mn)
		}
	}
}

// redShort reports whether to use the reduced test sizes (-short or qemu).
func redShort() bool { return testing.Short() || runtime.GOARCH == "arm64" }

func TestReduceDifferential(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(3, uint64(l)))
		sizes := []int{}
		for n := 0; n <= 300; n++ {
			sizes = append(sizes, n)
		}
		sizes = append(sizes, 1<<16+3, 4096+77)
		for _, n := range sizes {
			big := n > 300
			// Unaligned starts: the slices begin 0..7 elements past an
			// aligned base.
			start := n % 8
			iv := redInts(rng, n+start, n)[start:]
			fv := redFloats(rng, n+start, n)[start:]
			for vm := 0; vm < 5; vm++ {
				offs := []int{0}
				if vm >= 3 {
					offs = []int{0, 1 + rng.IntN(7), 8 + rng.IntN(64)}
				}
				for _, off := range offs {
					bm := redBitmap(rng, n, off, vm)
					for sm := 0; sm < 3; sm++ {
						if big && redShort() && (sm != 0 || vm == 4) {
							continue
						}
						sel := redSel(rng, n, sm)
						redCheckAll(t, iv, fv, bm, off, sel, fmt.Sprintf("n=%d vm=%d off=%d sm=%d", n, vm, off, sm))
					}
				}
			}
		}
	})
}

// TestReduceGuardPages runs every reduction on values and bitmaps that end
// exactly at a PROT_NONE page, so reading one element or byte too far
// crashes.
func TestReduceGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(5, uint64(l)))
		for n := 0; n <= 300; n += 1 + n/64 {
			for _, off := range []int{0, 3, 8} {
				iv, freeI := guardmem.Int64s(n)
				fv, freeF := guardmem.Float64s(n)
				copy(iv, redInts(rng, n, n))
				copy(fv, redFloats(rng, n, n))
				src := redBitmap(rng, n, off, 3)
				bm, freeB := guardmem.Bytes(len(src))
				copy(bm, src)
				redCheckAll(t, iv, fv, nil, 0, nil, fmt.Sprintf("guard n=%d", n))
				redCheckAll(t, iv, fv, bm, off, nil, fmt.Sprintf("guard n=%d off=%d", n, off))
				// A selection vector at a guard page, whose indices reach
				// the values' last element.
				ss := redSel(rng, n, 2)
				sel, freeS := guardmem.Int32s(len(ss))
				copy(sel, ss)
				if len(sel) > 0 {
					sel[len(sel)-1] = int32(n - 1)
				}
				redCheckAll(t, iv, fv, nil, 0, sel, fmt.Sprintf("guard n=%d sel", n))
				redCheckAll(t, iv, fv, bm, off, sel, fmt.Sprintf("guard n=%d off=%d sel", n, off))
				freeI()
				freeF()
				freeB()
				freeS()
			}
		}
	})
}

func TestReduceHandComputed(t *testing.T) {
	nz := math.Copysign(0, -1)
	nan, inf := math.NaN(), math.Inf(1)
	forEachLevel(t, func(t *testing.T, l Level) {
		// Exact overflow boundaries, padded with zeros so every level's
		// block routines see them (34 > one AVX-512 block).
		pad := func(vs ...int64) []int64 { return append(vs, make([]int64, 70)...) }
		for _, tc := range []struct {
			vals []int64
			sum  int64
			ovf  bool
		}{
			{pad(math.MaxInt64), math.MaxInt64, false},
			{pad(math.MaxInt64, 1), math.MinInt64, true},
			{pad(math.MaxInt64, 1, -1), math.MaxInt64, false},
			{pad(math.MinInt64), math.MinInt64, false},
			{pad(math.MinInt64, -1), math.MaxInt64, true},
			{pad(math.MinInt64, -1, 1), math.MinInt64, false},
			{pad(math.MaxInt64, math.MaxInt64, math.MinInt64, math.MinInt64, 5), 3, false},
			{pad(math.MinInt64, math.MaxInt64), -1, false},
		} {
			s, n, ovf := SumInt64(tc.vals, nil, 0, nil)
			require.Equal(t, tc.ovf, ovf, "%v", tc.vals[:5])
			require.Equal(t, tc.sum, s)
			require.Equal(t, len(tc.vals), n)
		}
		// 1000 × MaxInt64 then 1000 × MinInt64: intermediate sums leave the
		// int64 range by far, the exact total (-1000) does not.
		v := make([]int64, 2000)
		for i := range v {
			v[i] = math.MaxInt64
			if i >= 1000 {
				v[i] = math.MinInt64
			}
		}
		s, _, ovf := SumInt64(v, nil, 0, nil)
		require.False(t, ovf)
		require.Equal(t, int64(-1000), s)
		// Only the valid row counts: the invalid MaxInt64 must not overflow.
		bm := []byte{0b10, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		s, n, ovf := SumInt64(pad(math.MaxInt64, math.MaxInt64)[:72], bm, 0, nil)
		require.Equal(t, []any{int64(math.MaxInt64), 1, false}, []any{s, n, ovf})
		// No rows: NULL.
		s, n, ovf = SumInt64(nil, nil, 0, nil)
		require.Equal(t, []any{int64(0), 0, false}, []any{s, n, ovf})
		s, n, ovf = SumInt64(make([]int64, 100), make([]byte, 13), 0, nil)
		require.Equal(t, []any{int64(0), 0, false}, []any{s, n, ovf})

		// Float min/max total order.
		fpad := func(vs ...float64) []float64 {
			out := append([]float64{}, vs...)
			for len(out) < 70 {
				out = append(out, vs[len(out)%len(vs)])
			}
			return out
		}
		for _, tc := range []struct {
			vals     []float64
			min, max float64
		}{
			{fpad(0, nz), nz, 0},
			{fpad(nz, 0), nz, 0},
			{fpad(nz), nz, nz},
			{fpad(1, nan, -1), -1, nan},
			{fpad(nan), nan, nan},
			{fpad(-nan, 2), 2, nan},
			{fpad(inf, -inf, nan), -inf, nan},
			{fpad(inf, 3), 3, inf},
		} {
			mn, _ := MinFloat64(tc.vals, nil, 0, nil)
			mx, _ := MaxFloat64(tc.vals, nil, 0, nil)
			redSame(t, fmt.Sprint("min ", tc.vals[:3]), tc.min, mn)
			redSame(t, fmt.Sprint("max ", tc.vals[:3]), tc.max, mx)
		}
		m, n := MaxFloat64(nil, nil, 0, nil)
		require.True(t, m != m && n == 0)

		// Float sum: -0.0 only → -0.0; one +0.0 → +0.0; NaN and ±Inf.
		redSame(t, "sum -0", nz, redFirst(SumFloat64(fpad(nz), nil, 0, nil)))
		redSame(t, "sum ±0", 0, redFirst(SumFloat64(fpad(nz, 0), nil, 0, nil)))
		require.True(t, math.IsNaN(redFirst(SumFloat64(fpad(inf, -inf), nil, 0, nil))))
		redSame(t, "sum empty", nz, redFirst(SumFloat64(nil, nil, 0, nil)))
		// The documented lane order, hand-computed: 2^53 in lane 0 and 1.0 in
		// lanes 1..15. Tree: s0 = 2^53+1 → 2^53 (tie to even), s1..s7 = 2;
		// t0 = 2^53+2, t1..t3 = 4; u0 = 2^53+6, u1 = 8; sum = 2^53+14. A
		// sequential loop would absorb every 1.0 and return 2^53.
		lv := make([]float64, 16)
		lv[0] = 1 << 53
		for i := 1; i < len(lv); i++ {
			lv[i] = 1
		}
		redSame(t, "lane order", 1<<53+14, redFirst(SumFloat64(lv, nil, 0, nil)))
	})
}

// redFirst returns the first of two results.
func redFirst[A, B any](a A, _ B) A { return a }

// TestReduceSelOutOfRange: an index outside the values panics at every
// level, also inside a block the gather routines would take (they check
// before loading).
func TestReduceSelOutOfRange(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		iv, fv := make([]int64, 40), make([]float64, 40)
		for _, bad := range []int32{40, -1, math.MaxInt32, math.MinInt32} {
			for _, pos := range []int{0, 17, 47} {
				sel := make([]int32, 48)
				for i := range sel {
					sel[i] = int32(i % 40)
				}
				sel[pos] = bad
				msg := fmt.Sprintf("index %d at %d", bad, pos)
				bm := make([]byte, 6)
				require.Panics(t, func() { SumInt64(iv, bm, 0, sel) }, msg)
				require.Panics(t, func() { SumFloat64(fv, bm, 1, sel) }, msg)
				require.Panics(t, func() { MaxFloat64(fv, bm, 2, sel) }, msg)
				require.Panics(t, func() { MinInt64(iv, bm, 0, sel) }, msg)
				require.Panics(t, func() { SumInt64(iv, nil, 0, sel) }, msg)
				require.Panics(t, func() { SumFloat64(fv, nil, 0, sel) }, msg)
				require.Panics(t, func() { MinInt64(iv, nil, 0, sel) }, msg)
				require.Panics(t, func() { MaxInt64(iv, nil, 0, sel) }, msg)
				require.Panics(t, func() { MinFloat64(fv, nil, 0, sel) }, msg)
				require.Panics(t, func() { MaxFloat64(fv, nil, 0, sel) }, msg)
			}
		}
	})
}

func TestReduceArgumentChecks(t *testing.T) {
	require.PanicsWithValue(t, "kernels.SumInt64: validity bitmap of 1 bytes at bit offset 3 is too short for 6 rows", func() {
		SumInt64(make([]int64, 6), []byte{0xff}, 3, nil)
	})
	require.Panics(t, func() { MaxFloat64(make([]float64, 4), nil, 0, []int32{4}) })
	require.Panics(t, func() { Count(4, nil, 0, []int32{-1}) })
	require.Panics(t, func() { Count(-1, nil, 0, nil) })
	require.Equal(t, 2, Count(4, nil, 0, []int32{3, 3}))
}

func TestReduceAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	iv, fv := redInts(rng, 8192, 0), redFloats(rng, 8192, 0)
	bm := redBitmap(rng, 8192, 5, 3)
	sel := redSel(rng, 8192, 1)
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, c := range []struct {
			bm  []byte
			sel []int32
		}{{nil, nil}, {bm, nil}, {nil, sel}, {bm, sel}} {
			a := testing.AllocsPerRun(20, func() {
				SumInt64(iv, c.bm, 5, c.sel)
				SumFloat64(fv, c.bm, 5, c.sel)
				MinInt64(iv, c.bm, 5, c.sel)
				MaxInt64(iv, c.bm, 5, c.sel)
				MinFloat64(fv, c.bm, 5, c.sel)
				MaxFloat64(fv, c.bm, 5, c.sel)
				Count(len(iv), c.bm, 5, c.sel)
			})
			require.Zero(t, a)
		}
	})
}

func FuzzReduce(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{0xff}, uint8(0), false)
	f.Add(bytes.Repeat([]byte{0xff, 0x7f, 0, 0x80}, 200), []byte{0x5a, 0xa5, 0x0f}, uint8(3), true)
	f.Add(bytes.Repeat([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, 90), []byte{}, uint8(0), false)
	f.Add(bytes.Repeat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 130), bytes.Repeat([]byte{0xfe}, 20), uint8(7), false)
	f.Fuzz(func(t *testing.T, data, bits []byte, off uint8, useSel bool) {
		n := len(data) / 8
		iv := make([]int64, n)
		fv := make([]float64, n)
		for i := range iv {
			u := uint64(0)
			for b := 0; b < 8; b++ {
				u |= uint64(data[8*i+b]) << (8 * b)
			}
			iv[i], fv[i] = int64(u), math.Float64frombits(u)
		}
		o := int(off % 16)
		var bm []byte
		if len(bits) > 0 {
			bm = make([]byte, (o+n+7)/8)
			for i := range bm {
				bm[i] = bits[i%len(bits)]
			}
		}
		var sel []int32
		if useSel && n > 0 {
			for i := 0; i < n; i += 1 + int(data[i])%3 {
				sel = append(sel, int32(n-1-i))
			}
		}
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			redCheckAll(t, iv, fv, bm, o, sel, l.String())
			restore()
		}
	})
}

// ---------------------------------------------------------------------------
// Benchmarks.

func init() {
	const batch = 8192
	const large = 1 << 20
	type variant struct {
		suffix string
		valid  bool
		sel    bool
	}
	variants := []variant{{"", false, false}, {"/validity", true, false}, {"/sel", false, true}}
	for _, n := range []int{batch, large} {
		for _, v := range variants {
			if n == large && v.sel {
				continue
			}
			for _, k := range []string{"SumInt64", "SumFloat64", "MinInt64", "MaxInt64", "MinFloat64", "MaxFloat64"} {
				registerBench(benchCase{
					name:  fmt.Sprintf("reduce/%s%s/N=%d", k, v.suffix, n),
					n:     n,
					bytes: int64(n) * 8,
					big:   n > batch,
					setup: func() (func(), func()) {
						rng := rand.New(rand.NewPCG(11, uint64(n)))
						iv, fv := redInts(rng, n, 0), redFloats(rng, n, 0)
						var bm []byte
						var sel []int32
						if v.valid {
							bm = redBitmap(rng, n, 3, 4)
						}
						if v.sel {
							sel = redSel(rng, n, 1)
						}
						ops := map[string]func(){
							"SumInt64":   func() { SumInt64(iv, bm, 3, sel) },
							"SumFloat64": func() { SumFloat64(fv, bm, 3, sel) },
							"MinInt64":   func() { MinInt64(iv, bm, 3, sel) },
							"MaxInt64":   func() { MaxInt64(iv, bm, 3, sel) },
							"MinFloat64": func() { MinFloat64(fv, bm, 3, sel) },
							"MaxFloat64": func() { MaxFloat64(fv, bm, 3, sel) },
						}
						return ops[k], nil
					},
				})
			}
		}
		registerBench(benchCase{
			name: fmt.Sprintf("reduce/Count/validity/N=%d", n), n: n, bytes: int64(n) / 8, big: n > batch,
			setup: func() (func(), func()) {
				bm := redBitmap(rand.New(rand.NewPCG(1, 1)), n, 3, 4)
				return func() { Count(n, bm, 3, nil) }, nil
			},
		})
	}

	// The 1 GiB column of the bandwidth target, and the machine's plain
	// read bandwidth measured the same way: bytes.IndexByte (the Go
	// runtime's AVX2 assembly) scanning 1 GiB of 2s for a 1, i.e. one
	// vector load and compare per 32 bytes and nothing else. (The buffer is
	// written first: untouched pages all map the shared zero page, which
	// reads from cache at a fake 60+ GB/s.)
	const gib = 1 << 30
	registerBench(benchCase{
		name: "reduce/SumInt64/N=1GiB", n: gib / 8, bytes: gib, big: true,
		setup: func() (func(), func()) {
			col := make([]int64, gib/8)
			for i := range col {
				col[i] = int64(i & 1023)
			}
			return func() { SumInt64(col, nil, 0, nil) }, func() { col = nil; runtime.GC() }
		},
	})
	registerBench(benchCase{
		name: "reduce/ReadBandwidth(bytes.IndexByte)/N=1GiB", n: gib / 8, bytes: gib, big: true, levelFree: true,
		setup: func() (func(), func()) {
			buf := bytes.Repeat([]byte{2}, gib)
			return func() {
				if bytes.IndexByte(buf, 1) >= 0 {
					panic("unreachable")
				}
			}, func() { buf = nil; runtime.GC() }
		},
	})
}
