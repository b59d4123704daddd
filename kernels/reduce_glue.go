//go:build !purego && (amd64 || arm64)

package kernels

import "math"

// ---------------------------------------------------------------------------
// Glue shared by the assembly levels: the routines process whole blocks of a
// prefix (blk rows dense, mblk rows with validity, 16 selected rows); the
// rows after it run through the reference loops of reduce.go.

// reduceBlocks describes one level's block routines (the methods sumI,
// sumIM, ... in reduce_<arch>.go call the level's assembly directly, so the
// lane arrays stay on the stack). Each routine folds a whole number of blocks
// starting at p into the lane accumulators acc (in and out): blk rows per
// block dense, mblk with validity, read from bit shift (0..7) of *bm.
// With gather set, selection vectors without a validity bitmap go to the
// sel routines in blocks of 16 candidates (each checks its 16 indices before
// using them and stops at a block with one out of range, which the reference
// then reports by panicking). Other selection-vector inputs, and inputs
// shorter than one block, run the reference.
//
// With gatherMasked set too, selection vectors with a validity bitmap go to
// the SelMasked routines the same way.
type reduceBlocks struct {
	isa          Level
	blk, mblk    int
	gather       bool
	gatherMasked bool
}

// selBlock is the number of candidates per block of the sel routines.
const selBlock = 16

// selPrefix returns how many leading candidates of sel the sel routines
// take (0: the reference does the whole input).
func (rb *reduceBlocks) selPrefix(nvals int, validity []byte, sel []int32) int {
	if !rb.gather || validity != nil && !rb.gatherMasked || nvals == 0 {
		return 0
	}
	return blocksPrefix(len(sel), selBlock)
}

// gatherLimit is the nvals passed to the sel routines: indices are int32,
// so anything at or above MaxInt32 (or negative) is out of range anyway.
func gatherLimit(n int) int { return min(n, math.MaxInt32) }

// sumInt64Chunk bounds the rows per call of a sum routine so that no lane
// accumulator can wrap (lanes see at most 2^30 values of < 2^32 each).
const sumInt64Chunk = 1 << 30

// blocksPrefix returns the number of leading rows of n the routines take.
func blocksPrefix(n, blk int) int { return n - n%blk }

// useRef reports whether an input goes to the reference as a whole.
func (rb *reduceBlocks) useRef(n int, validity []byte, sel []int32) bool {
	if sel != nil {
		return rb.selPrefix(n, validity, sel) == 0
	}
	return n < rb.blk
}

func (rb *reduceBlocks) sumInt64(vals []int64, validity []byte, off int, sel []int32) (int64, int, bool) {
	if rb.useRef(len(vals), validity, sel) {
		return sumInt64Generic(vals, validity, off, sel)
	}
	if sel != nil {
		var acc i128
		pre, k, nvalid := rb.selPrefix(len(vals), validity, sel), 0, 0
		for k < pre {
			m := min(pre-k, sumInt64Chunk)
			var lanes [16]uint64
			var d int
			if validity == nil {
				d = rb.sumISel(&vals[0], gatherLimit(len(vals)), &sel[k], m, &lanes)
				nvalid += d
			} else {
				var c int
				d, c = rb.sumISelM(&vals[0], gatherLimit(len(vals)), &sel[k], m, &validity[0], off, &lanes)
				nvalid += c
			}
			acc.addLanes(&lanes)
			k += d
			if d < m {
				break
			}
		}
		n := nvalid + sumInt64Rows(&acc, vals, validity, off, sel, k)
		s, ok := acc.int64()
		return s, n, !ok
	}
	var acc i128
	var done, n int
	if validity == nil {
		done = blocksPrefix(len(vals), rb.blk)
		for i := 0; i < done; i += sumInt64Chunk {
			m := min(done-i, sumInt64Chunk)
			var lanes [16]uint64
			rb.sumI(&vals[i], m, &lanes)
			acc.addLanes(&lanes)
		}
		n = done
	} else {
		done = blocksPrefix(len(vals), rb.mblk)
		for i := 0; i < done; i += sumInt64Chunk {
			m := min(done-i, sumInt64Chunk)
			var lanes [16]uint64
			b := off + i
			rb.sumIM(&vals[i], m, &validity[b>>3], uint(b&7), &lanes)
			acc.addLanes(&lanes)
		}
		if done > 0 {
			n = countBits(validity, off, done)
		}
	}
	n += sumInt64Rows(&acc, vals, validity, off, nil, done)
	s, ok := acc.int64()
	return s, n, !ok
}

func (rb *reduceBlocks) sumFloat64(vals []float64, validity []byte, off int, sel []int32) (float64, int) {
	if rb.useRef(len(vals), validity, sel) {
		return sumFloat64Generic(vals, validity, off, sel)
	}
	var lanes [sumLanes]float64
	initSumLanes(&lanes)
	if sel != nil {
		pre := rb.selPrefix(len(vals), validity, sel)
		var k, nvalid int
		if validity == nil {
			k = rb.sumFSel(&vals[0], gatherLimit(len(vals)), &sel[0], pre, &lanes)
			nvalid = k
		} else {
			k, nvalid = rb.sumFSelM(&vals[0], gatherLimit(len(vals)), &sel[0], pre, &validity[0], off, &lanes)
		}
		n := nvalid + sumFloat64Rows(&lanes, vals, validity, off, sel, k)
		return sumLanesTree(&lanes), n
	}
	var done, n int
	if validity == nil {
		done = blocksPrefix(len(vals), rb.blk)
		rb.sumF(&vals[0], done, &lanes)
		n = done
	} else {
		done = blocksPrefix(len(vals), rb.mblk)
		if done > 0 {
			rb.sumFM(&vals[0], done, &validity[off>>3], uint(off&7), &lanes)
			n = countBits(validity, off, done)
		}
	}
	n += sumFloat64Rows(&lanes, vals, validity, off, sel, done)
	return sumLanesTree(&lanes), n
}

// minMaxLanes folds the routine's lanes (plain keys, identity-initialised)
// into the max-domain accumulator used by maxInt64Rows.
func minMaxLanes(lanes *[16]int64, flip int64) int64 {
	m := int64(math.MinInt64)
	for _, v := range lanes {
		m = max(m, v^flip)
	}
	return m
}

// minMaxIdentity returns the lanes' start value: math.MinInt64 for max,
// math.MaxInt64 for min.
func minMaxIdentity(isMax bool) int64 { return math.MinInt64 ^ keyFlip(isMax) }

func (rb *reduceBlocks) minMaxInt64(vals []int64, validity []byte, off int, sel []int32, isMax bool) (int64, int) {
	if rb.useRef(len(vals), validity, sel) {
		return minMaxInt64Generic(vals, validity, off, sel, isMax)
	}
	var lanes [16]int64
	id := minMaxIdentity(isMax)
	for k := range lanes {
		lanes[k] = id
	}
	flip := keyFlip(isMax)
	if sel != nil {
		pre := rb.selPrefix(len(vals), validity, sel)
		var k, nvalid int
		if validity == nil {
			k = rb.minMaxISel(&vals[0], gatherLimit(len(vals)), &sel[0], pre, &lanes, isMax)
			nvalid = k
		} else {
			k, nvalid = rb.minMaxISelM(&vals[0], gatherLimit(len(vals)), &sel[0], pre, &validity[0], off, &lanes, isMax)
		}
		m := minMaxLanes(&lanes, flip)
		n := nvalid + maxInt64Rows(&m, vals, validity, off, sel, k, flip)
		return m ^ flip, n
	}
	var done, n int
	if validity == nil {
		done = blocksPrefix(len(vals), rb.blk)
		rb.minMaxI(&vals[0], done, nil, 0, &lanes, isMax)
		n = done
	} else if done = blocksPrefix(len(vals), rb.mblk); done > 0 {
		rb.minMaxI(&vals[0], done, &validity[off>>3], uint(off&7), &lanes, isMax)
		n = countBits(validity, off, done)
	}
	m := minMaxLanes(&lanes, flip)
	n += maxInt64Rows(&m, vals, validity, off, nil, done, flip)
	return m ^ flip, n
}

func (rb *reduceBlocks) minMaxFloat64(vals []float64, validity []byte, off int, sel []int32, isMax bool) (float64, int) {
	if rb.useRef(len(vals), validity, sel) {
		return minMaxFloat64Generic(vals, validity, off, sel, isMax)
	}
	var lanes [16]int64
	id := minMaxIdentity(isMax)
	for k := range lanes {
		lanes[k] = id
	}
	flip := keyFlip(isMax)
	if sel != nil {
		pre := rb.selPrefix(len(vals), validity, sel)
		var k, nvalid int
		if validity == nil {
			k = rb.minMaxFSel(&vals[0], gatherLimit(len(vals)), &sel[0], pre, &lanes, isMax)
			nvalid = k
		} else {
			k, nvalid = rb.minMaxFSelM(&vals[0], gatherLimit(len(vals)), &sel[0], pre, &validity[0], off, &lanes, isMax)
		}
		m := minMaxLanes(&lanes, flip)
		n := nvalid + maxFloat64Rows(&m, vals, validity, off, sel, k, flip)
		if n == 0 {
			return math.NaN(), 0
		}
		return keyFloat(m ^ flip), n
	}
	var done, n int
	if validity == nil {
		done = blocksPrefix(len(vals), rb.blk)
		rb.minMaxF(&vals[0], done, nil, 0, &lanes, isMax)
		n = done
	} else if done = blocksPrefix(len(vals), rb.mblk); done > 0 {
		rb.minMaxF(&vals[0], done, &validity[off>>3], uint(off&7), &lanes, isMax)
		n = countBits(validity, off, done)
	}
	m := minMaxLanes(&lanes, flip)
	n += maxFloat64Rows(&m, vals, validity, off, nil, done, flip)
	if n == 0 {
		return math.NaN(), 0
	}
	return keyFloat(m ^ flip), n
}

// install points the package-level implementations at rb's glue.
func (rb *reduceBlocks) install() {
	sumInt64Impl = rb.sumInt64
	sumFloat64Impl = rb.sumFloat64
	minInt64Impl = func(v []int64, bm []byte, off int, sel []int32) (int64, int) {
		return rb.minMaxInt64(v, bm, off, sel, false)
	}
	maxInt64Impl = func(v []int64, bm []byte, off int, sel []int32) (int64, int) {
		return rb.minMaxInt64(v, bm, off, sel, true)
	}
	minFloat64Impl = func(v []float64, bm []byte, off int, sel []int32) (float64, int) {
		return rb.minMaxFloat64(v, bm, off, sel, false)
	}
	maxFloat64Impl = func(v []float64, bm []byte, off int, sel []int32) (float64, int) {
		return rb.minMaxFloat64(v, bm, off, sel, true)
	}
}
