package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/internal/guardmem"
)

// probeFloatOracle is SQL grouping equality written independently of the
// kernel: both NaN, or numerically equal (which makes -0.0 equal +0.0).
func probeFloatOracle(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b
}

// probeTestData fills a table of tlen keys and n probe rows whose group ids
// point into it; about half the probe keys equal their table key.
func probeTestData(r *rand.Rand, n, tlen int) (probe, table []int64, groups []uint32) {
	table = hashTestInt64s(r, tlen)
	probe = hashTestInt64s(r, n)
	groups = make([]uint32, n)
	for i := range groups {
		groups[i] = uint32(r.IntN(tlen))
		if r.IntN(2) == 0 {
			probe[i] = table[groups[i]]
		}
	}
	return probe, table, groups
}

// probeTestFloatData is probeTestData for float64, with NaNs of several
// payloads, ±0 and the "equal but different bits" pairs.
func probeTestFloatData(r *rand.Rand, n, tlen int) (probe, table []float64, groups []uint32) {
	table = hashTestFloats(r, tlen)
	probe = hashTestFloats(r, n)
	groups = make([]uint32, n)
	for i := range groups {
		g := uint32(r.IntN(tlen))
		groups[i] = g
		switch r.IntN(6) {
		case 0, 1:
			probe[i] = table[g]
		case 2:
			// Same value class, different bits: NaN payload or zero sign.
			switch t := table[g]; {
			case math.IsNaN(t):
				probe[i] = math.Float64frombits(0xFFF0000000000000 | r.Uint64()&0xFFFFFFFFFFFF | 1)
			case t == 0:
				probe[i] = math.Copysign(0, -math.Copysign(1, t))
			}
		}
	}
	return probe, table, groups
}

func probeCheckBitmap(t *testing.T, out []byte, n int, want func(i int) bool, msg string) {
	t.Helper()
	for i := 0; i < n; i++ {
		if got := out[i>>3]>>(i&7)&1 == 1; got != want(i) {
			t.Fatalf("%s: row %d: got %v want %v", msg, i, got, want(i))
		}
	}
	if n%8 != 0 {
		require.Zero(t, out[n>>3]>>(n&7), "%s: padding bits of the last byte must be clear", msg)
	}
}

func TestProbeEqInt64(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, n := range hashTestLengths() {
			tlen := []int{1, 2, 9, 1000}[n%4]
			probe, table, groups := probeTestData(r, n+8, tlen)
			off := n % 8
			probe, groups = probe[off:][:n], groups[(n*3)%8:][:n]
			for i := range probe {
				if r.IntN(2) == 0 {
					probe[i] = table[groups[i]]
				}
			}
			out := make([]byte, (n+7)/8+1)
			for i := range out {
				out[i] = 0xFF
			}
			ProbeEqInt64(out[:(n+7)/8], probe, table, groups)
			probeCheckBitmap(t, out, n, func(i int) bool { return probe[i] == table[groups[i]] }, "n="+strconv.Itoa(n))
			require.Equal(t, byte(0xFF), out[(n+7)/8], "wrote past the bitmap")
		}
	})
}

func TestProbeEqFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, n := range hashTestLengths() {
			tlen := []int{1, 3, 17, 500}[n%4]
			probe, table, groups := probeTestFloatData(r, n+8, tlen)
			probe = probe[n%8:][:n]
			groups = groups[n%8:][:n]
			out := make([]byte, (n+7)/8)
			for i := range out {
				out[i] = 0xA5
			}
			ProbeEqFloat64(out, probe, table, groups)
			probeCheckBitmap(t, out, n, func(i int) bool { return probeFloatOracle(probe[i], table[groups[i]]) }, "n="+strconv.Itoa(n))
		}
	})
}

func TestProbeFloatSemantics(t *testing.T) {
	negZero := math.Copysign(0, -1)
	nan2 := math.Float64frombits(0xFFF8000000000001)
	table := []float64{0, negZero, math.NaN(), 1, math.Inf(1), 5e-324}
	probe := []float64{negZero, 0, nan2, math.NaN(), 1, math.Inf(-1), 5e-324, 0, 1, math.NaN()}
	groups := []uint32{0, 1, 2, 2, 3, 4, 5, 2, 2, 3}
	// Hand-computed: -0 = 0, 0 = -0, NaN = NaN (any payload), 1 = 1,
	// -Inf != +Inf, denormal = itself, 0 != NaN, 1 != NaN, NaN != 1.
	want := []bool{true, true, true, true, true, false, true, false, false, false}
	forEachLevel(t, func(t *testing.T, l Level) {
		// Repeat the pattern so the vector paths see it too.
		var p, tb []float64
		var g []uint32
		var w []bool
		for k := 0; k < 7; k++ {
			p = append(p, probe...)
			g = append(g, groups...)
			w = append(w, want...)
		}
		tb = table
		out := make([]byte, (len(p)+7)/8)
		ProbeEqFloat64(out, p, tb, g)
		probeCheckBitmap(t, out, len(p), func(i int) bool { return w[i] }, "semantics")
		clear(out)
		sel := []int32{0, 2, 5, 9, 13}
		ProbeEqFloat64Sel(out, p, tb, g, sel)
		probeCheckBitmap(t, out, len(p), func(i int) bool {
			return (i == 0 || i == 2 || i == 13) // 5 and 9 are selected but unequal
		}, "semantics sel")
	})
}

func TestProbeGuardPages(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	forEachLevel(t, func(t *testing.T, l Level) {
		for n := 0; n <= 80; n++ {
			p, tb, g := probeTestData(r, n, 5)
			probe, freeP := guardmem.Int64s(n)
			table, freeT := guardmem.Int64s(5)
			groups, freeG := guardmem.Uint32s(n)
			out, freeO := guardmem.Bytes((n + 7) / 8)
			copy(probe, p)
			copy(table, tb)
			copy(groups, g)
			ProbeEqInt64(out, probe, table, groups)
			probeCheckBitmap(t, out, n, func(i int) bool { return probe[i] == table[groups[i]] }, "int64 guard")

			fp, ft, fg := probeTestFloatData(r, n, 5)
			fprobe, freeFP := guardmem.Float64s(n)
			ftable, freeFT := guardmem.Float64s(5)
			copy(fprobe, fp)
			copy(ftable, ft)
			copy(groups, fg)
			ProbeEqFloat64(out, fprobe, ftable, groups)
			probeCheckBitmap(t, out, n, func(i int) bool { return probeFloatOracle(fprobe[i], ftable[groups[i]]) }, "float64 guard")
			freeP()
			freeT()
			freeG()
			freeO()
			freeFP()
			freeFT()
		}
	})
}

func TestProbeOutOfRangeGroup(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, bad := range []uint32{7, 8, 1 << 31, math.MaxUint32} {
			for _, at := range []int{0, 3, 37, 64, 299} {
				probe, table, groups := probeTestData(r, 300, 7)
				groups[at] = bad
				out := make([]byte, 38)
				require.Panics(t, func() { ProbeEqInt64(out, probe, table, groups) }, "id %d at %d", bad, at)
				fp := make([]float64, 300)
				require.Panics(t, func() { ProbeEqFloat64(out, fp, make([]float64, 7), groups) }, "id %d at %d", bad, at)
				require.Panics(t, func() { ProbeEqInt64Sel(out, probe, table, groups, []int32{int32(at)}) })
				// Rows outside the selection are not looked at.
				sel := []int32{int32((at + 1) % 300)}
				require.NotPanics(t, func() { ProbeEqInt64Sel(out, probe, table, groups, sel) })
			}
		}
		require.Panics(t, func() { ProbeEqInt64(make([]byte, 1), make([]int64, 3), []int64{}, make([]uint32, 3)) })
		require.NotPanics(t, func() { ProbeEqInt64(nil, nil, nil, nil) })
	})
	require.Panics(t, func() { ProbeEqInt64(make([]byte, 1), make([]int64, 9), make([]int64, 1), make([]uint32, 9)) })
	require.Panics(t, func() { ProbeEqInt64(make([]byte, 2), make([]int64, 9), make([]int64, 1), make([]uint32, 8)) })
	require.Panics(t, func() {
		ProbeEqFloat64Sel(make([]byte, 1), make([]float64, 9), make([]float64, 1), make([]uint32, 9), nil)
	})
	require.Panics(t, func() {
		ProbeEqInt64Sel(make([]byte, 2), make([]int64, 9), make([]int64, 1), make([]uint32, 9), []int32{9})
	})
}

func TestProbeSel(t *testing.T) {
	r := rand.New(rand.NewPCG(49, 50))
	for _, n := range hashTestLengths() {
		probe, table, groups := probeTestData(r, n, 13)
		fp, ft, fg := probeTestFloatData(r, n, 13)
		var sel []int32
		in := make([]bool, n)
		for i := 0; i < n; i++ {
			if r.IntN(3) != 0 {
				sel = append(sel, int32(i))
				in[i] = true
			}
		}
		if n%2 == 1 { // any order is allowed
			r.Shuffle(len(sel), func(a, b int) { sel[a], sel[b] = sel[b], sel[a] })
		}
		out := make([]byte, (n+7)/8)
		for i := range out {
			out[i] = 0xFF
		}
		ProbeEqInt64Sel(out, probe, table, groups, sel)
		probeCheckBitmap(t, out, n, func(i int) bool { return in[i] && probe[i] == table[groups[i]] }, "int64 sel n="+strconv.Itoa(n))
		ProbeEqFloat64Sel(out, fp, ft, fg, sel)
		probeCheckBitmap(t, out, n, func(i int) bool { return in[i] && probeFloatOracle(fp[i], ft[fg[i]]) }, "float64 sel n="+strconv.Itoa(n))
	}
}

func TestProbeAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	probe, table, groups := probeTestData(r, 8192, 1024)
	fp, ft, _ := probeTestFloatData(r, 8192, 1024)
	sel := make([]int32, 4096)
	for i := range sel {
		sel[i] = int32(2 * i)
	}
	out := make([]byte, 1024)
	forEachLevel(t, func(t *testing.T, l Level) {
		require.Zero(t, testing.AllocsPerRun(10, func() {
			ProbeEqInt64(out, probe, table, groups)
			ProbeEqFloat64(out, fp, ft, groups)
			ProbeEqInt64Sel(out, probe, table, groups, sel)
		}))
	})
}

func FuzzProbe(f *testing.F) {
	f.Add([]byte{}, []byte{}, uint8(1))
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ"), []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), uint8(3))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0x8000000000000000), 0x7FF8000000000001), []byte{0, 1}, uint8(2))
	f.Fuzz(func(t *testing.T, keys []byte, gs []byte, tlen uint8) {
		if tlen == 0 {
			tlen = 1
		}
		n := len(keys) / 8
		probe := make([]int64, n)
		for i := range probe {
			probe[i] = int64(binary.LittleEndian.Uint64(keys[8*i:]))
		}
		// The table holds the first tlen keys (cycled), so equal keys occur.
		table := make([]int64, tlen)
		for i := range table {
			if n > 0 {
				table[i] = probe[i%n]
			}
		}
		groups := make([]uint32, n)
		for i := range groups {
			if len(gs) > 0 {
				groups[i] = uint32(gs[i%len(gs)]) % uint32(tlen)
			}
		}
		fp := make([]float64, n)
		for i, k := range probe {
			fp[i] = math.Float64frombits(uint64(k))
		}
		ft := make([]float64, tlen)
		for i, k := range table {
			ft[i] = math.Float64frombits(uint64(k))
		}
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			out := make([]byte, (n+7)/8)
			ProbeEqInt64(out, probe, table, groups)
			probeCheckBitmap(t, out, n, func(i int) bool { return probe[i] == table[groups[i]] }, "fuzz int64 "+l.String())
			ProbeEqFloat64(out, fp, ft, groups)
			probeCheckBitmap(t, out, n, func(i int) bool { return probeFloatOracle(fp[i], ft[groups[i]]) }, "fuzz float64 "+l.String())
			restore()
		}
	})
}

func init() {
	for _, tlen := range []int{1 << 10, 1 << 20} {
		tlen := tlen
		sfx := "/T=" + strconv.Itoa(tlen) + "/N=8192"
		big := tlen > 1<<10
		registerBench(benchCase{name: "probe/ProbeEqInt64" + sfx, n: 8192, bytes: 12 * 8192, big: big,
			setup: func() (func(), func()) {
				probe, table, groups := probeTestData(rand.New(rand.NewPCG(1, 2)), 8192, tlen)
				out := make([]byte, 1024)
				return func() { ProbeEqInt64(out, probe, table, groups) }, nil
			}})
		registerBench(benchCase{name: "probe/ProbeEqFloat64" + sfx, n: 8192, bytes: 12 * 8192, big: big,
			setup: func() (func(), func()) {
				probe, table, groups := probeTestFloatData(rand.New(rand.NewPCG(1, 2)), 8192, tlen)
				out := make([]byte, 1024)
				return func() { ProbeEqFloat64(out, probe, table, groups) }, nil
			}})
	}
	registerBench(benchCase{name: "probe/ProbeEqInt64Sel/T=1024/N=8192", n: 4096, bytes: 16 * 4096,
		setup: func() (func(), func()) {
			probe, table, groups := probeTestData(rand.New(rand.NewPCG(1, 2)), 8192, 1024)
			sel := make([]int32, 4096)
			for i := range sel {
				sel[i] = int32(2 * i)
			}
			out := make([]byte, 1024)
			return func() { ProbeEqInt64Sel(out, probe, table, groups, sel) }, nil
		}})
}
