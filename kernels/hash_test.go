package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/internal/guardmem"
)

// hashOracle is the test oracle: xxhash.Sum64 of the 8 little-endian bytes.
func hashOracle(k uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], k)
	return xxhash.Sum64(b[:])
}

// hashFloatOracle canonicalises independently of the kernel: NaN ->
// 0x7FF8000000000000, -0.0 -> 0.
func hashFloatOracle(f float64) uint64 {
	b := math.Float64bits(f)
	switch {
	case math.IsNaN(f):
		b = 0x7FF8000000000000
	case b == 1<<63:
		b = 0
	}
	return hashOracle(b)
}

// hashTestFloats returns n random float64s, a quarter of them special values
// (NaNs with several payloads and both signs, ±0, ±Inf, subnormals).
func hashTestFloats(r *rand.Rand, n int) []float64 {
	specials := []float64{
		math.NaN(), math.Float64frombits(0x7FF8000000000000), math.Float64frombits(0xFFF8000000000000),
		math.Float64frombits(0x7FF0000000000001), math.Float64frombits(0xFFF0000000000123),
		math.Float64frombits(0x7FFFFFFFFFFFFFFF), 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1),
		5e-324, -5e-324, math.MaxFloat64, -math.MaxFloat64, 1, -1, 0.1,
	}
	out := make([]float64, n)
	for i := range out {
		if r.IntN(4) == 0 {
			out[i] = specials[r.IntN(len(specials))]
		} else {
			out[i] = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(40)-20))
		}
	}
	return out
}

func TestHashKnownValues(t *testing.T) {
	// Hand-checked anchors: xxhash.Sum64 of 8 zero bytes, of the bytes of
	// 1 and of "veloNULL" (the constant is those bytes read little-endian).
	require.Equal(t, uint64(0x34c96acdcadb1bbb), hashOracle(0))
	require.Equal(t, xxhash.Sum64String("\x01\x00\x00\x00\x00\x00\x00\x00"), hashOracle(1))
	require.Equal(t, uint64(NullHash), binary.LittleEndian.Uint64([]byte("veloNULL")))
	require.Equal(t, uint64(0xef46db3751d8e999), xxhash.Sum64(nil))
	require.NotEqual(t, uint64(0xef46db3751d8e999), NullHash)
	forEachLevel(t, func(t *testing.T, l Level) {
		keys := []int64{0, 1, -1, math.MinInt64, math.MaxInt64, 0, 1, -1, 7}
		dst := make([]uint64, len(keys))
		HashInt64(dst, keys, nil, 0)
		require.Equal(t, uint64(0x34c96acdcadb1bbb), dst[0])
		require.Equal(t, dst[0], dst[5])
		for i, k := range keys {
			require.Equal(t, hashOracle(uint64(k)), dst[i], "key %d", k)
		}
		fl := []float64{math.Copysign(0, -1), 0, math.NaN(), math.Float64frombits(0xFFF0000000000001), 1, 2, 3, 4}
		HashFloat64(dst[:8], fl, nil, 0)
		require.Equal(t, dst[0], dst[1], "-0.0 and +0.0 must hash alike")
		require.Equal(t, uint64(0x34c96acdcadb1bbb), dst[0])
		require.Equal(t, dst[2], dst[3], "every NaN must hash alike")
		require.Equal(t, hashOracle(CanonicalNaNBits), dst[2])
	})
}

func TestHashInt64MatchesXXHash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, n := range hashTestLengths() {
			elemOff := n % 8
			base := hashTestInt64s(r, n+8)
			keys := base[elemOff : elemOff+n]
			dst := make([]uint64, n+8)[8-elemOff:][:n]
			for di, d := range hashTestDensities {
				bitOff := (n + di) % 13
				valid := hashTestBitmap(r, bitOff+n, d)
				for i := range dst {
					dst[i] = 0xdeadbeef
				}
				HashInt64(dst, keys, valid, bitOff)
				for i, k := range keys {
					want := hashOracle(uint64(k))
					if !hashTestBit(valid, bitOff+i) {
						want = NullHash
					}
					if dst[i] != want {
						t.Fatalf("n=%d density=%v bitOff=%d row %d key %d: got %#x want %#x", n, d, bitOff, i, k, dst[i], want)
					}
				}
			}
			u := make([]uint64, n)
			ts := make([]uint64, n)
			HashUint64(u, hashInt64sAsUint64s(keys), nil, 0)
			HashTimestamp(ts, keys, nil, 0)
			for i, k := range keys {
				if u[i] != hashOracle(uint64(k)) || ts[i] != u[i] {
					t.Fatalf("n=%d row %d: uint64/timestamp hash mismatch", n, i)
				}
			}
		}
	})
}

func TestHashFloat64MatchesXXHash(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, n := range hashTestLengths() {
			elemOff := (n * 5) % 8
			keys := hashTestFloats(r, n+8)[elemOff:][:n]
			dst := make([]uint64, n)
			for di, d := range hashTestDensities {
				bitOff := (n * di) % 9
				valid := hashTestBitmap(r, bitOff+n, d)
				HashFloat64(dst, keys, valid, bitOff)
				for i, f := range keys {
					want := hashFloatOracle(f)
					if !hashTestBit(valid, bitOff+i) {
						want = NullHash
					}
					if dst[i] != want {
						t.Fatalf("n=%d density=%v row %d key %v (%#x): got %#x want %#x", n, d, i, f, math.Float64bits(f), dst[i], want)
					}
				}
			}
		}
	})
}

func TestHashGuardPages(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	forEachLevel(t, func(t *testing.T, l Level) {
		for n := 0; n <= 70; n++ {
			keys, freeK := guardmem.Int64s(n)
			fl, freeF := guardmem.Float64s(n)
			dst, freeD := guardmem.Uint64s(n)
			h, freeH := guardmem.Uint64s(n)
			bitOff := n % 8
			valid, freeV := guardmem.Bytes((bitOff + n + 7) / 8)
			copy(keys, hashTestInt64s(r, n))
			copy(fl, hashTestFloats(r, n))
			copy(valid, hashTestBitmap(r, len(valid)*8, 0.7))

			HashInt64(dst, keys, valid, bitOff)
			for i, k := range keys {
				want := hashOracle(uint64(k))
				if !hashTestBit(valid, bitOff+i) {
					want = NullHash
				}
				require.Equal(t, want, dst[i], "n=%d row %d", n, i)
			}
			HashFloat64(dst, fl, nil, 0)
			for i, f := range fl {
				require.Equal(t, hashFloatOracle(f), dst[i], "n=%d row %d", n, i)
			}
			for i := range h {
				h[i] = r.Uint64()
			}
			want := make([]uint64, n)
			copy(want, dst)
			hashCombineGeneric(want, h)
			HashCombine(dst, h)
			require.Equal(t, want, append(make([]uint64, 0, n), dst...), "n=%d", n)
			freeK()
			freeF()
			freeD()
			freeH()
			freeV()
		}
	})
}

func TestHashCombine(t *testing.T) {
	// The formula, computed by hand for one row.
	a, b := hashOracle(1), hashOracle(2)
	want := ((a<<27 | a>>37) ^ b) * 0x9E3779B185EBCA87
	r := rand.New(rand.NewPCG(7, 8))
	forEachLevel(t, func(t *testing.T, l Level) {
		d := []uint64{a, b}
		HashCombine(d, []uint64{b, a})
		require.Equal(t, want, d[0])
		require.NotEqual(t, d[0], d[1], "(a, b) and (b, a) must hash differently")

		for _, n := range hashTestLengths() {
			off := n % 8
			dst := make([]uint64, n+8)[off:][:n]
			h := make([]uint64, n+8)[(n*3)%8:][:n]
			for i := range dst {
				dst[i], h[i] = r.Uint64(), r.Uint64()
			}
			exp := make([]uint64, n)
			for i := range exp {
				x := dst[i]
				exp[i] = ((x<<27 | x>>37) ^ h[i]) * 0x9E3779B185EBCA87
			}
			HashCombine(dst, h)
			if n > 0 {
				require.Equal(t, exp, dst, "n=%d", n)
			}
		}
	})
}

func TestHashStringsArrow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(9, 10))

	bld := array.NewStringBuilder(mem)
	defer bld.Release()
	var vals []string
	var valid []bool
	for i := 0; i < 300; i++ {
		if r.IntN(5) == 0 {
			bld.AppendNull()
			vals, valid = append(vals, ""), append(valid, false)
			continue
		}
		b := make([]byte, r.IntN(70))
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		bld.Append(string(b))
		vals, valid = append(vals, string(b)), append(valid, true)
	}
	arr := bld.NewStringArray()
	defer arr.Release()

	for _, start := range []int{0, 1, 3, 7, 64, 299, 300} {
		sl := array.NewSlice(arr, int64(start), int64(len(vals))).(*array.String)
		// Arrow layout: the offsets (sliced to the array's rows) index the
		// whole data buffer, and the bitmap is shared with the parent, so
		// the validity bit offset is the array's offset.
		offs := sl.ValueOffsets()
		data := sl.Data().Buffers()[2].Bytes()
		bm := sl.NullBitmapBytes()
		dst := make([]uint64, sl.Len())
		HashStrings(dst, offs, data, bm, sl.Data().Offset())
		for i := range dst {
			want := xxhash.Sum64String(vals[start+i])
			if !valid[start+i] {
				want = NullHash
			}
			require.Equal(t, want, dst[i], "start=%d row %d", start, i)
		}
		sl.Release()
	}
	// The same bytes hash alike whatever column type holds them.
	one := make([]uint64, 1)
	HashStrings(one, []int32{0, 8}, []byte("\x2a\x00\x00\x00\x00\x00\x00\x00"), nil, 0)
	require.Equal(t, hashOracle(42), one[0])
	HashStrings(one[:0], nil, nil, nil, 0) // no offsets: no rows
}

func TestHashArgumentChecks(t *testing.T) {
	require.Panics(t, func() { HashInt64(make([]uint64, 2), make([]int64, 3), nil, 0) })
	require.Panics(t, func() { HashFloat64(make([]uint64, 9), make([]float64, 9), make([]byte, 1), 1) })
	require.Panics(t, func() { HashUint64(make([]uint64, 9), make([]uint64, 9), make([]byte, 2), -1) })
	require.Panics(t, func() { HashCombine(make([]uint64, 1), make([]uint64, 2)) })
	require.Panics(t, func() { HashStrings(make([]uint64, 1), []int32{0, 1, 2}, []byte("ab"), nil, 0) })
	require.NotPanics(t, func() { HashInt64(make([]uint64, 9), make([]int64, 9), make([]byte, 2), 7) })
}

func TestHashValidityBits(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	bm := hashTestBitmap(r, 200, 0.5)
	for off := 0; off < 100; off++ {
		for m := 1; m <= 64 && off+m <= 200; m++ {
			w := hashValidityBits(bm[:(off+m+7)/8], off, m)
			for j := 0; j < 64; j++ {
				want := j >= m || hashTestBit(bm, off+j)
				require.Equal(t, want, w>>j&1 == 1, "off=%d m=%d bit %d", off, m, j)
			}
		}
	}
}

func TestHashAllocs(t *testing.T) {
	keys := hashTestInt64s(rand.New(rand.NewPCG(1, 1)), 8192)
	fl := make([]float64, 8192)
	dst := make([]uint64, 8192)
	valid := hashTestBitmap(rand.New(rand.NewPCG(1, 1)), 8193, 0.5)
	offs := make([]int32, 1025)
	for i := range offs {
		offs[i] = int32(i * 3)
	}
	data := make([]byte, 3*1024)
	forEachLevel(t, func(t *testing.T, l Level) {
		require.Zero(t, testing.AllocsPerRun(10, func() {
			HashInt64(dst, keys, valid, 1)
			HashFloat64(dst, fl, nil, 0)
			HashCombine(dst, dst)
			HashStrings(dst, offs, data, valid, 3)
		}))
	})
}

func FuzzHash(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint8(0))
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ"), uint8(3), uint8(5))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0x8000000000000000), 0xFFF8000000000001), uint8(1), uint8(200))
	f.Fuzz(func(t *testing.T, data []byte, bitOff uint8, seed uint8) {
		n := len(data) / 8
		keys := make([]uint64, n)
		fl := make([]float64, n)
		for i := range keys {
			keys[i] = binary.LittleEndian.Uint64(data[8*i:])
			fl[i] = math.Float64frombits(keys[i])
		}
		off := int(bitOff % 16)
		valid := hashTestBitmap(rand.New(rand.NewPCG(uint64(seed), 0)), off+n, float64(seed%5)/4)
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			dst := make([]uint64, n)
			HashUint64(dst, keys, valid, off)
			for i, k := range keys {
				want := xxhash.Sum64(data[8*i : 8*i+8])
				if !hashTestBit(valid, off+i) {
					want = NullHash
				}
				require.Equal(t, want, dst[i], "level %s row %d key %#x", l, i, k)
			}
			HashFloat64(dst, fl, nil, 0)
			for i, x := range fl {
				require.Equal(t, hashFloatOracle(x), dst[i], "level %s row %d", l, i)
			}
			acc := append([]uint64(nil), keys...)
			want := append([]uint64(nil), keys...)
			hashCombineGeneric(want, dst)
			HashCombine(acc, dst)
			require.Equal(t, want, acc)
			restore()
		}
	})
}

func init() {
	for _, n := range []int{8192, 1 << 20} {
		n := n
		big := n > 8192
		name := func(k string) string { return "hash/" + k + "/N=" + strconv.Itoa(n) }
		registerBench(benchCase{name: name("xxhash.Sum64-baseline"), n: n, bytes: int64(8 * n), big: big, levelFree: true,
			setup: func() (func(), func()) {
				keys := hashTestInt64s(rand.New(rand.NewPCG(1, 2)), n)
				dst := make([]uint64, n)
				return func() {
					var b [8]byte
					for i, k := range keys {
						binary.LittleEndian.PutUint64(b[:], uint64(k))
						dst[i] = xxhash.Sum64(b[:])
					}
				}, nil
			}})
		registerBench(benchCase{name: name("HashInt64"), n: n, bytes: int64(8 * n), big: big,
			setup: func() (func(), func()) {
				keys := hashTestInt64s(rand.New(rand.NewPCG(1, 2)), n)
				dst := make([]uint64, n)
				return func() { HashInt64(dst, keys, nil, 0) }, nil
			}})
		registerBench(benchCase{name: name("HashFloat64"), n: n, bytes: int64(8 * n), big: big,
			setup: func() (func(), func()) {
				keys := hashTestFloats(rand.New(rand.NewPCG(1, 2)), n)
				dst := make([]uint64, n)
				return func() { HashFloat64(dst, keys, nil, 0) }, nil
			}})
		registerBench(benchCase{name: name("HashInt64-nulls"), n: n, bytes: int64(8*n + n/8), big: big,
			setup: func() (func(), func()) {
				r := rand.New(rand.NewPCG(1, 2))
				keys := hashTestInt64s(r, n)
				valid := hashTestBitmap(r, n, 0.9)
				dst := make([]uint64, n)
				return func() { HashInt64(dst, keys, valid, 0) }, nil
			}})
		registerBench(benchCase{name: name("HashCombine"), n: n, bytes: int64(16 * n), big: big,
			setup: func() (func(), func()) {
				h := make([]uint64, n)
				dst := make([]uint64, n)
				for i := range h {
					h[i] = uint64(i) * prime2
				}
				return func() { HashCombine(dst, h) }, nil
			}})
	}
	registerBench(benchCase{name: "hash/HashStrings/N=8192", n: 8192, bytes: 8192 * 12,
		setup: func() (func(), func()) {
			offs := make([]int32, 8193)
			for i := range offs {
				offs[i] = int32(8 * i)
			}
			data := make([]byte, 8*8192)
			dst := make([]uint64, 8192)
			return func() { HashStrings(dst, offs, data, nil, 0) }, nil
		}})
}
