//go:build !purego

package kernels

import "github.com/velo-engine/velo/kernels/asm"

// Reductions on arm64: the NEON block routines (kernels/asm/
// reduce_neon_arm64.s) fold blocks of 16 rows dense and 64 rows with a
// validity bitmap; the glue in reduce_glue.go finishes the tail in Go.
// Selection vectors run the Go reference: NEON has no gather, and loading
// lanes one by one is what the Go loop already does (gather is false, so
// the sel methods below report that they took no rows).

var reduceNEON = reduceBlocks{isa: NEON, blk: 16, mblk: 64}

func init() {
	onLevel(func(l Level) {
		if l == NEON {
			reduceNEON.install()
		} else {
			installReduceGeneric()
		}
	})
}

func (rb *reduceBlocks) sumI(p *int64, n int, acc *[16]uint64) { asm.SumInt64NEON(p, n, acc) }

func (rb *reduceBlocks) sumIM(p *int64, n int, bm *byte, shift uint, acc *[16]uint64) {
	asm.SumInt64MaskedNEON(p, n, bm, shift, acc)
}

func (rb *reduceBlocks) sumF(p *float64, n int, acc *[16]float64) { asm.SumFloat64NEON(p, n, acc) }

func (rb *reduceBlocks) sumFM(p *float64, n int, bm *byte, shift uint, acc *[16]float64) {
	asm.SumFloat64MaskedNEON(p, n, bm, shift, acc)
}

// minMaxI runs the min (isMax false) or max routine, masked when bm != nil.
func (rb *reduceBlocks) minMaxI(p *int64, n int, bm *byte, shift uint, acc *[16]int64, isMax bool) {
	switch {
	case bm == nil && isMax:
		asm.MaxInt64NEON(p, n, acc)
	case bm == nil:
		asm.MinInt64NEON(p, n, acc)
	case isMax:
		asm.MaxInt64MaskedNEON(p, n, bm, shift, acc)
	default:
		asm.MinInt64MaskedNEON(p, n, bm, shift, acc)
	}
}

// minMaxF is minMaxI over float keys.
func (rb *reduceBlocks) minMaxF(p *float64, n int, bm *byte, shift uint, acc *[16]int64, isMax bool) {
	switch {
	case bm == nil && isMax:
		asm.MaxFloat64NEON(p, n, acc)
	case bm == nil:
		asm.MinFloat64NEON(p, n, acc)
	case isMax:
		asm.MaxFloat64MaskedNEON(p, n, bm, shift, acc)
	default:
		asm.MinFloat64MaskedNEON(p, n, bm, shift, acc)
	}
}

// The sel methods take no rows on arm64 (see gather above).

func (rb *reduceBlocks) sumISel(*int64, int, *int32, int, *[16]uint64) int { return 0 }

func (rb *reduceBlocks) sumFSel(*float64, int, *int32, int, *[16]float64) int { return 0 }

func (rb *reduceBlocks) minMaxISel(*int64, int, *int32, int, *[16]int64, bool) int { return 0 }

func (rb *reduceBlocks) minMaxFSel(*float64, int, *int32, int, *[16]int64, bool) int { return 0 }

func (rb *reduceBlocks) sumISelM(*int64, int, *int32, int, *byte, int, *[16]uint64) (int, int) {
	return 0, 0
}

func (rb *reduceBlocks) sumFSelM(*float64, int, *int32, int, *byte, int, *[16]float64) (int, int) {
	return 0, 0
}

func (rb *reduceBlocks) minMaxISelM(*int64, int, *int32, int, *byte, int, *[16]int64, bool) (int, int) {
	return 0, 0
}

func (rb *reduceBlocks) minMaxFSelM(*float64, int, *int32, int, *byte, int, *[16]int64, bool) (int, int) {
	return 0, 0
}
