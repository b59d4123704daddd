package kernels

// Test helpers shared by the hash, partition and probe families.

import (
	"math/rand/v2"
	"testing"
)

// hashTestLengths is every length 0..300 plus a few large ones (smaller with
// -short, which the qemu run uses).
func hashTestLengths() []int {
	ls := make([]int, 0, 310)
	for n := 0; n <= 300; n++ {
		ls = append(ls, n)
	}
	if testing.Short() {
		return append(ls, 4099, 1<<13+5)
	}
	return append(ls, 1<<16+3, 1<<16-1, 100_003)
}

// hashTestBitmap returns a random validity bitmap covering bits 0..nbits-1
// with the given fraction of set bits, with nil for density < 0 (no bitmap).
func hashTestBitmap(r *rand.Rand, nbits int, density float64) []byte {
	if density < 0 {
		return nil
	}
	bm := make([]byte, (nbits+7)/8)
	for i := 0; i < nbits; i++ {
		if r.Float64() < density {
			bm[i>>3] |= 1 << (i & 7)
		}
	}
	return bm
}

// hashTestBit reports bit i of an LSB-first bitmap (true when bm is nil).
func hashTestBit(bm []byte, i int) bool {
	return bm == nil || bm[i>>3]>>(i&7)&1 == 1
}

// hashTestDensities are the validity cases: no bitmap, all null, sparse,
// half and dense.
var hashTestDensities = []float64{-1, 0, 0.1, 0.5, 0.97, 1}

// hashTestInt64s returns n random int64s, biased towards edge values.
func hashTestInt64s(r *rand.Rand, n int) []int64 {
	edges := []int64{0, -1, 1, 1 << 63 >> 63, -1 << 63, 1<<63 - 1, 42}
	out := make([]int64, n)
	for i := range out {
		if r.IntN(8) == 0 {
			out[i] = edges[r.IntN(len(edges))]
		} else {
			out[i] = int64(r.Uint64())
		}
	}
	return out
}
