//go:build !purego

package kernels

import "github.com/velo-engine/velo/kernels/asm"

func init() {
	onLevel(func(l Level) {
		switch l {
		case AVX512:
			partitionIDsImpl = partitionIDsAVX512
			splitTwoImpl = splitTwoAVX512
		case AVX2:
			partitionIDsImpl = partitionIDsAVX2
			splitTwoImpl = splitTwoAVX2
		default:
			partitionIDsImpl = partitionIDsGeneric
			splitTwoImpl = splitTwoGeneric
		}
	})
}

// The assembly handles the first len(hashes)&^7 rows; the rest run through
// the reference.

func partitionIDsAVX512(dst []uint32, hashes []uint64, n uint32) {
	asm.PartitionIDsAVX512(dst, hashes, n)
	k := len(hashes) &^ 7
	partitionIDsGeneric(dst[k:], hashes[k:], n)
}

func partitionIDsAVX2(dst []uint32, hashes []uint64, n uint32) {
	asm.PartitionIDsAVX2(dst, hashes, n)
	k := len(hashes) &^ 7
	partitionIDsGeneric(dst[k:], hashes[k:], n)
}

// The split routines handle the first len(hashes)&^15 (AVX-512) or &^7
// (AVX2) rows and return how many went to sel1; the tail continues in the
// reference at the counts reached.

func splitTwoAVX512(sel0, sel1 []int32, hashes []uint64, base int32) int {
	n1 := asm.SplitTwoAVX512(sel0, sel1, hashes, base)
	return splitTwoTail(sel0, sel1, hashes, base, len(hashes)&^15, n1)
}

func splitTwoAVX2(sel0, sel1 []int32, hashes []uint64, base int32) int {
	n1 := asm.SplitTwoAVX2(sel0, sel1, hashes, base)
	return splitTwoTail(sel0, sel1, hashes, base, len(hashes)&^7, n1)
}

// splitTwoTail finishes rows [k, len(hashes)) after the assembly did the
// first k rows, n1 of them to sel1.
func splitTwoTail(sel0, sel1 []int32, hashes []uint64, base int32, k, n1 int) int {
	if k == len(hashes) {
		return n1
	}
	n0 := k - n1
	return n1 + splitTwoGeneric(sel0[n0:], sel1[n1:], hashes[k:], base+int32(k))
}
