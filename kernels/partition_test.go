package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/internal/guardmem"
)

// partitionOracle computes the id with a 128-bit product of the masked hash:
// (hi32(h) << 32) * n >> 64 == hi32(h) * n >> 32.
func partitionOracle(h uint64, n int) uint32 {
	hi, _ := bits.Mul64(h&0xFFFFFFFF00000000, uint64(n))
	return uint32(hi)
}

var partitionTestCounts = []int{1, 2, 3, 7, 8, 64, 255, 256, 257, 1000, 1 << 20, math.MaxUint32}

func TestPartitionIDsKnownValues(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		hashes := []uint64{0, 0x8000000000000000, 0xFFFFFFFF00000000, 0xFFFFFFFFFFFFFFFF, 0x00000000FFFFFFFF, 0x4000000000000000, 0xC000000000000000, 1 << 32, 0x8000000012345678}
		dst := make([]uint32, len(hashes))
		PartitionIDs(dst, hashes, 10)
		// Hand-computed: hi32 * 10 >> 32.
		require.Equal(t, []uint32{0, 5, 9, 9, 0, 2, 7, 0, 5}, dst)
		PartitionIDs(dst, hashes, 1)
		require.Equal(t, make([]uint32, len(hashes)), dst)
		PartitionIDs(dst, hashes, math.MaxUint32)
		require.Equal(t, uint32(0xFFFFFFFE), dst[2])
		require.Equal(t, uint32(0x7FFFFFFF), dst[1])
	})
}

func TestPartitionIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, n := range hashTestLengths() {
			parts := partitionTestCounts[n%len(partitionTestCounts)]
			off := n % 8
			hashes := make([]uint64, n+8)[off:][:n]
			for i := range hashes {
				hashes[i] = r.Uint64()
			}
			dst := make([]uint32, n+9)[(n*3)%8:][:n+1]
			dst[n] = 0xabcdef
			PartitionIDs(dst[:n], hashes, parts)
			for i, h := range hashes {
				want := partitionOracle(h, parts)
				if dst[i] != want {
					t.Fatalf("n=%d parts=%d row %d hash %#x: got %d want %d", n, parts, i, h, dst[i], want)
				}
			}
			require.Equal(t, uint32(0xabcdef), dst[n], "wrote past len(hashes)")
			// Only the high 32 bits matter.
			for i := range hashes {
				hashes[i] ^= uint64(r.Uint32())
			}
			again := make([]uint32, n)
			PartitionIDs(again, hashes, parts)
			require.Equal(t, dst[:n], again)
		}
	})
}

func TestPartitionIDsGuardPages(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	forEachLevel(t, func(t *testing.T, l Level) {
		for n := 0; n <= 80; n++ {
			hashes, freeH := guardmem.Uint64s(n)
			dst, freeD := guardmem.Uint32s(n)
			for i := range hashes {
				hashes[i] = r.Uint64()
			}
			PartitionIDs(dst, hashes, 7)
			for i, h := range hashes {
				require.Equal(t, partitionOracle(h, 7), dst[i])
			}
			freeH()
			freeD()
		}
	})
}

func TestPartitionIDsArgumentChecks(t *testing.T) {
	require.Panics(t, func() { PartitionIDs(make([]uint32, 1), make([]uint64, 1), 0) })
	require.Panics(t, func() { PartitionIDs(make([]uint32, 1), make([]uint64, 1), 1<<32) })
	require.Panics(t, func() { PartitionIDs(make([]uint32, 1), make([]uint64, 2), 4) })
}

// partitionTestIDs returns n ids in [0, parts), skewed (runs of the same
// partition) when skew is set.
func partitionTestIDs(r *rand.Rand, n, parts int, skew bool) []uint32 {
	ids := make([]uint32, n)
	p := uint32(0)
	for i := range ids {
		if !skew || r.IntN(8) == 0 {
			p = uint32(r.IntN(parts))
		}
		ids[i] = p
	}
	return ids
}

func TestHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, parts := range []int{1, 2, 5, 8, 255, 256, 257, 4096} {
		for _, n := range []int{0, 1, 3, 4, 5, 17, 300, 8192, 100_003} {
			ids := partitionTestIDs(r, n, parts, n%2 == 0)
			counts := make([]int32, parts)
			for i := range counts {
				counts[i] = -7 // Histogram must reset
			}
			Histogram(counts, ids)
			want := make([]int32, parts)
			for _, id := range ids {
				want[id]++
			}
			require.Equal(t, want, counts, "parts=%d n=%d", parts, n)
		}
	}
	// Out-of-range ids panic on every path (plain loop, 16- and 256-entry
	// split), whether or not they fit the sub-histograms.
	for _, parts := range []int{3, 8, 16, 20, 256, 300} {
		for _, n := range []int{5, 64, 301} {
			for _, bad := range []uint32{uint32(parts), uint32(parts) + 1, 255, 256, 1 << 20} {
				if bad < uint32(parts) {
					continue
				}
				ids := partitionTestIDs(r, n, parts, false)
				ids[n/2] = bad
				require.Panics(t, func() { Histogram(make([]int32, parts), ids) }, "parts=%d n=%d bad=%d", parts, n, bad)
			}
		}
	}
}

func TestPartitionStarts(t *testing.T) {
	starts := make([]int32, 5)
	require.Equal(t, int32(10), PartitionStarts(starts, []int32{3, 0, 4, 2, 1}))
	require.Equal(t, []int32{0, 3, 3, 7, 9}, starts)
	require.Equal(t, int32(0), PartitionStarts(nil, nil))
}

// partitionScatterOracle lists, per partition, the row indices in order.
func partitionScatterOracle(ids []uint32, parts int) []int32 {
	per := make([][]int32, parts)
	for i, id := range ids {
		per[id] = append(per[id], int32(i))
	}
	var out []int32
	for _, rows := range per {
		out = append(out, rows...)
	}
	return out
}

func TestScatter(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for _, parts := range []int{1, 3, 8, 300} {
		for _, n := range hashTestLengths() {
			if n > 300 && parts != 8 {
				continue
			}
			ids := partitionTestIDs(r, n, parts, n%3 == 0)
			order := partitionScatterOracle(ids, parts)
			counts := make([]int32, parts)
			starts := make([]int32, parts)
			cur := make([]int32, parts)
			Histogram(counts, ids)
			require.Equal(t, int32(n), PartitionStarts(starts, counts))
			ends := make([]int32, parts)
			for p := range ends {
				ends[p] = starts[p] + counts[p]
			}

			src := hashTestInt64s(r, n+8)[n%8:][:n]
			dst := make([]int64, n)
			copy(cur, starts)
			ScatterInt64(dst, src, ids, cur)
			require.Equal(t, ends, cur)
			for j, row := range order {
				if dst[j] != src[row] {
					t.Fatalf("ScatterInt64 parts=%d n=%d slot %d: got %d want row %d's %d", parts, n, j, dst[j], row, src[row])
				}
			}

			src32 := make([]uint32, n)
			for i := range src32 {
				src32[i] = r.Uint32()
			}
			dst32 := make([]uint32, n)
			copy(cur, starts)
			ScatterUint32(dst32, src32, ids, cur)
			idx := make([]int32, n)
			copy(cur, starts)
			ScatterIndices(idx, ids, cur)
			require.Equal(t, ends, cur)
			for j, row := range order {
				if dst32[j] != src32[row] || idx[j] != row {
					t.Fatalf("ScatterUint32/ScatterIndices parts=%d n=%d slot %d", parts, n, j)
				}
			}
			if n > 0 {
				require.Equal(t, order, idx)
			}
		}
	}
}

func TestScatterTypedAndGuardPages(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	for n := 0; n <= 40; n++ {
		ids := partitionTestIDs(r, n, 4, false)
		counts := make([]int32, 4)
		starts := make([]int32, 4)
		Histogram(counts, ids)
		PartitionStarts(starts, counts)
		order := partitionScatterOracle(ids, 4)

		f, freeF := guardmem.Float64s(n)
		fd, freeFD := guardmem.Float64s(n)
		for i := range f {
			f[i] = math.Float64frombits(r.Uint64()) // any bits, NaNs included, move unchanged
		}
		cur := append([]int32(nil), starts...)
		ScatterFloat64(fd, f, ids, cur)
		for j, row := range order {
			require.Equal(t, math.Float64bits(f[row]), math.Float64bits(fd[j]))
		}
		i32, freeI := guardmem.Int32s(n)
		i32d, freeID := guardmem.Int32s(n)
		for i := range i32 {
			i32[i] = int32(r.Uint32())
		}
		cur = append(cur[:0], starts...)
		ScatterInt32(i32d, i32, ids, cur)
		for j, row := range order {
			require.Equal(t, i32[row], i32d[j])
		}
		freeF()
		freeFD()
		freeI()
		freeID()
	}
	require.Panics(t, func() { ScatterInt64(make([]int64, 1), make([]int64, 1), []uint32{0, 0}, []int32{0}) })
	require.Panics(t, func() { ScatterInt64(make([]int64, 1), make([]int64, 2), []uint32{0, 0}, []int32{0}) })
}

func TestPartitionAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	hashes := make([]uint64, 8192)
	for i := range hashes {
		hashes[i] = r.Uint64()
	}
	ids := make([]uint32, 8192)
	src := make([]int64, 8192)
	dst := make([]int64, 8192)
	idx := make([]int32, 8192)
	counts, starts, cur := make([]int32, 8), make([]int32, 8), make([]int32, 8)
	forEachLevel(t, func(t *testing.T, l Level) {
		require.Zero(t, testing.AllocsPerRun(10, func() {
			PartitionIDs(ids, hashes, 8)
			Histogram(counts, ids)
			PartitionStarts(starts, counts)
			copy(cur, starts)
			ScatterInt64(dst, src, ids, cur)
			copy(cur, starts)
			ScatterIndices(idx, ids, cur)
		}))
	})
}

func FuzzPartition(f *testing.F) {
	f.Add([]byte{}, uint16(1))
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ"), uint16(7))
	f.Add(binary.LittleEndian.AppendUint64(nil, math.MaxUint64), uint16(65535))
	f.Fuzz(func(t *testing.T, data []byte, parts uint16) {
		if parts == 0 {
			parts = 1
		}
		n := len(data) / 8
		hashes := make([]uint64, n)
		for i := range hashes {
			hashes[i] = binary.LittleEndian.Uint64(data[8*i:])
		}
		var ids []uint32
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			got := make([]uint32, n)
			PartitionIDs(got, hashes, int(parts))
			restore()
			for i, h := range hashes {
				require.Equal(t, partitionOracle(h, int(parts)), got[i], "level %s row %d", l, i)
			}
			ids = got
		}
		counts := make([]int32, parts)
		starts := make([]int32, parts)
		Histogram(counts, ids)
		PartitionStarts(starts, counts)
		idx := make([]int32, n)
		ScatterIndices(idx, ids, starts)
		want := partitionScatterOracle(ids, int(parts))
		if n > 0 {
			require.Equal(t, want, idx)
		}
	})
}

func init() {
	for _, n := range []int{8192, 1 << 20} {
		n := n
		big := n > 8192
		registerBench(benchCase{name: "partition/PartitionIDs/N=" + strconv.Itoa(n), n: n, bytes: int64(8 * n), big: big,
			setup: func() (func(), func()) {
				r := rand.New(rand.NewPCG(1, 2))
				hashes := make([]uint64, n)
				for i := range hashes {
					hashes[i] = r.Uint64()
				}
				dst := make([]uint32, n)
				return func() { PartitionIDs(dst, hashes, 8) }, nil
			}})
	}
	for _, parts := range []int{8, 1024} {
		parts := parts
		sfx := "/P=" + strconv.Itoa(parts) + "/N=8192"
		setupIDs := func() []uint32 { return partitionTestIDs(rand.New(rand.NewPCG(3, 4)), 8192, parts, false) }
		registerBench(benchCase{name: "partition/Histogram" + sfx, n: 8192, bytes: 4 * 8192,
			setup: func() (func(), func()) {
				ids := setupIDs()
				counts := make([]int32, parts)
				return func() { Histogram(counts, ids) }, nil
			}})
		registerBench(benchCase{name: "partition/ScatterInt64" + sfx, n: 8192, bytes: 12 * 8192,
			setup: func() (func(), func()) {
				ids := setupIDs()
				counts, starts, cur := make([]int32, parts), make([]int32, parts), make([]int32, parts)
				Histogram(counts, ids)
				PartitionStarts(starts, counts)
				src, dst := make([]int64, 8192), make([]int64, 8192)
				return func() { copy(cur, starts); ScatterInt64(dst, src, ids, cur) }, nil
			}})
		registerBench(benchCase{name: "partition/ScatterUint32" + sfx, n: 8192, bytes: 8 * 8192,
			setup: func() (func(), func()) {
				ids := setupIDs()
				counts, starts, cur := make([]int32, parts), make([]int32, parts), make([]int32, parts)
				Histogram(counts, ids)
				PartitionStarts(starts, counts)
				src, dst := make([]uint32, 8192), make([]uint32, 8192)
				return func() { copy(cur, starts); ScatterUint32(dst, src, ids, cur) }, nil
			}})
		registerBench(benchCase{name: "partition/ScatterIndices" + sfx, n: 8192, bytes: 4 * 8192,
			setup: func() (func(), func()) {
				ids := setupIDs()
				counts, starts, cur := make([]int32, parts), make([]int32, parts), make([]int32, parts)
				Histogram(counts, ids)
				PartitionStarts(starts, counts)
				dst := make([]int32, 8192)
				return func() { copy(cur, starts); ScatterIndices(dst, ids, cur) }, nil
			}})
	}
}

// splitTwoOracle splits by PartitionIDs' reference at n = 2 and appends each
// row's index to its partition's list.
func splitTwoOracle(hashes []uint64, base int32) (sel0, sel1 []int32) {
	ids := make([]uint32, len(hashes))
	partitionIDsGeneric(ids, hashes, 2)
	sel0, sel1 = []int32{}, []int32{}
	for i, id := range ids {
		switch id {
		case 0:
			sel0 = append(sel0, base+int32(i))
		case 1:
			sel1 = append(sel1, base+int32(i))
		default:
			panic("partition id out of range for n = 2")
		}
	}
	return sel0, sel1
}

// splitTwoPatterns name the top-bit patterns of splitTwoTestHashes.
var splitTwoPatterns = []string{"random", "all0", "all1", "runs", "sparse1", "sparse0", "alternate"}

// splitTwoTestHashes fills hashes with random bits and sets the top bits by
// pattern (an index into splitTwoPatterns).
func splitTwoTestHashes(r *rand.Rand, hashes []uint64, pattern int) {
	top := uint64(0)
	for i := range hashes {
		switch splitTwoPatterns[pattern] {
		case "random":
			top = r.Uint64() >> 63
		case "all0":
			top = 0
		case "all1":
			top = 1
		case "runs":
			if r.IntN(16) == 0 {
				top ^= 1
			}
		case "sparse1":
			top = b2u(r.IntN(16) == 0)
		case "sparse0":
			top = b2u(r.IntN(16) != 0)
		case "alternate":
			top = uint64(i & 1)
		}
		hashes[i] = r.Uint64()>>1 | top<<63
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func TestSplitTwoKnownValues(t *testing.T) {
	hashes := []uint64{0, 0x8000000000000000, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x00000000FFFFFFFF, 0xC000000000000000, 1 << 32, 0x8000000012345678}
	// Hand-computed: partition 1 iff the top bit is set.
	want0, want1 := []int32{10, 12, 14, 16}, []int32{11, 13, 15, 17}
	ids := make([]uint32, len(hashes))
	partitionIDsGeneric(ids, hashes, 2)
	require.Equal(t, []uint32{0, 1, 0, 1, 0, 1, 0, 1}, ids)
	forEachLevel(t, func(t *testing.T, l Level) {
		// Repeat to 8·k rows so the assembly's blocks see the values too.
		for _, rep := range []int{1, 2, 5} {
			var hs []uint64
			var w0, w1 []int32
			for k := 0; k < rep; k++ {
				hs = append(hs, hashes...)
				for _, v := range want0 {
					w0 = append(w0, v+int32(8*k))
				}
				for _, v := range want1 {
					w1 = append(w1, v+int32(8*k))
				}
			}
			sel0, sel1 := make([]int32, len(hs)), make([]int32, len(hs))
			n0, n1 := SplitTwo(sel0, sel1, hs, 10)
			require.Equal(t, w0, sel0[:n0])
			require.Equal(t, w1, sel1[:n1])
		}
	})
}

func TestSplitTwo(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const sentinel = -0x5a5a5a5a
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, n := range hashTestLengths() {
			for p := range splitTwoPatterns {
				if n > 300 && p%2 == 1 && testing.Short() {
					continue
				}
				off := (n + p) % 8
				hashes := make([]uint64, n+8)[off:][:n]
				splitTwoTestHashes(r, hashes, p)
				base := int32(0)
				if p%2 == 1 {
					base = int32(r.IntN(1 << 20))
				}
				want0, want1 := splitTwoOracle(hashes, base)
				// Unaligned outputs with sentinels past len(hashes).
				buf0 := make([]int32, n+16)[(n*3+p)%8:]
				buf1 := make([]int32, n+16)[(n*5+p+1)%8:]
				for i := range buf0 {
					buf0[i] = sentinel
				}
				for i := range buf1 {
					buf1[i] = sentinel
				}
				n0, n1 := SplitTwo(buf0[:n], buf1[:n], hashes, base)
				if n0 != len(want0) || n1 != len(want1) || !slices.Equal(buf0[:n0], want0) || !slices.Equal(buf1[:n1], want1) {
					t.Fatalf("n=%d pattern=%s base=%d: got counts %d/%d want %d/%d\nsel0 %v\nwant %v\nsel1 %v\nwant %v",
						n, splitTwoPatterns[p], base, n0, n1, len(want0), len(want1), buf0[:n0], want0, buf1[:n1], want1)
				}
				for i := n; i < len(buf0); i++ {
					require.EqualValues(t, sentinel, buf0[i], "sel0 written past len(hashes) at %d (n=%d)", i, n)
				}
				for i := n; i < len(buf1); i++ {
					require.EqualValues(t, sentinel, buf1[i], "sel1 written past len(hashes) at %d (n=%d)", i, n)
				}
				// Longer outputs are fine too; a sub-range split with the
				// matching base gives the same indices as the whole.
				if n >= 2 {
					h := n / 2
					a0, a1 := make([]int32, n+5), make([]int32, n+5)
					c0, c1 := SplitTwo(a0, a1, hashes[:h], base)
					d0, d1 := SplitTwo(a0[c0:], a1[c1:], hashes[h:], base+int32(h))
					require.Equal(t, want0, a0[:c0+d0], "n=%d halves sel0", n)
					require.Equal(t, want1, a1[:c1+d1], "n=%d halves sel1", n)
				}
			}
		}
	})
}

func TestSplitTwoGuardPages(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	forEachLevel(t, func(t *testing.T, l Level) {
		for n := 0; n <= 300; n++ {
			p := n % len(splitTwoPatterns)
			hashes, freeH := guardmem.Uint64s(n)
			sel0, free0 := guardmem.Int32s(n)
			sel1, free1 := guardmem.Int32s(n)
			splitTwoTestHashes(r, hashes, p)
			want0, want1 := splitTwoOracle(hashes, 7)
			n0, n1 := SplitTwo(sel0, sel1, hashes, 7)
			require.Equal(t, want0, sel0[:n0], "n=%d pattern=%s", n, splitTwoPatterns[p])
			require.Equal(t, want1, sel1[:n1], "n=%d pattern=%s", n, splitTwoPatterns[p])
			freeH()
			free0()
			free1()
		}
	})
}

func TestSplitTwoIndexRange(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		// The last index is exactly MaxInt32.
		const n = 40
		hashes := make([]uint64, n)
		for i := range hashes {
			hashes[i] = uint64(i%3) << 62
		}
		base := int32(math.MaxInt32 - n + 1)
		want0, want1 := splitTwoOracle(hashes, base)
		sel0, sel1 := make([]int32, n), make([]int32, n)
		n0, n1 := SplitTwo(sel0, sel1, hashes, base)
		require.Equal(t, want0, sel0[:n0])
		require.Equal(t, want1, sel1[:n1])
		require.Equal(t, int32(math.MaxInt32), max(sel0[n0-1], sel1[n1-1]))
		require.Panics(t, func() { SplitTwo(sel0, sel1, hashes, base+1) })
	})
}

func TestSplitTwoArgumentChecks(t *testing.T) {
	require.Panics(t, func() { SplitTwo(make([]int32, 3), make([]int32, 4), make([]uint64, 4), 0) })
	require.Panics(t, func() { SplitTwo(make([]int32, 4), make([]int32, 3), make([]uint64, 4), 0) })
	require.Panics(t, func() { SplitTwo(make([]int32, 4), make([]int32, 4), make([]uint64, 4), -1) })
	require.Panics(t, func() { SplitTwo(nil, nil, make([]uint64, 1), math.MaxInt32) })
	n0, n1 := SplitTwo(nil, nil, nil, math.MaxInt32)
	require.Zero(t, n0+n1)
	n0, n1 = SplitTwo([]int32{-1}, []int32{-1}, []uint64{1 << 63}, math.MaxInt32)
	require.Equal(t, [2]int{0, 1}, [2]int{n0, n1})
}

func TestSplitTwoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	hashes := make([]uint64, 8192+5)
	splitTwoTestHashes(r, hashes, 0)
	sel0, sel1 := make([]int32, len(hashes)), make([]int32, len(hashes))
	forEachLevel(t, func(t *testing.T, l Level) {
		require.Zero(t, testing.AllocsPerRun(10, func() {
			SplitTwo(sel0, sel1, hashes, 3)
		}))
	})
}

func FuzzSplitTwo(f *testing.F) {
	f.Add([]byte{}, uint32(0))
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ"), uint32(5))
	f.Add(bytes.Repeat([]byte{0xff, 0, 0x80, 0x7f, 1, 2, 0x90, 0x10, 0x33}, 40), uint32(math.MaxInt32-100))
	f.Fuzz(func(t *testing.T, data []byte, base uint32) {
		n := len(data) / 8
		hashes := make([]uint64, n)
		for i := range hashes {
			hashes[i] = binary.LittleEndian.Uint64(data[8*i:])
		}
		b := int32(base & math.MaxInt32)
		if int64(b)+int64(n) > math.MaxInt32+1 {
			require.Panics(t, func() { SplitTwo(make([]int32, n), make([]int32, n), hashes, b) })
			return
		}
		want0, want1 := splitTwoOracle(hashes, b)
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			sel0, sel1 := make([]int32, n), make([]int32, n)
			n0, n1 := SplitTwo(sel0, sel1, hashes, b)
			restore()
			require.Equal(t, want0, sel0[:n0], "level %s", l)
			require.Equal(t, want1, sel1[:n1], "level %s", l)
		}
	})
}

func init() {
	for _, n := range []int{8192, 1 << 20} {
		registerBench(benchCase{name: "partition/SplitTwo/N=" + strconv.Itoa(n), n: n, bytes: int64(8 * n), big: n > 8192,
			setup: func() (func(), func()) {
				r := rand.New(rand.NewPCG(5, 6))
				hashes := make([]uint64, n)
				splitTwoTestHashes(r, hashes, 0)
				sel0, sel1 := make([]int32, n), make([]int32, n)
				return func() { SplitTwo(sel0, sel1, hashes, 0) }, nil
			}})
	}
}
