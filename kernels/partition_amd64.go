//go:build !purego

package kernels

import "github.com/velo-engine/velo/kernels/asm"

func init() {
	onLevel(func(l Level) {
		switch l {
		case AVX512:
			partitionIDsImpl = partitionIDsAVX512
		case AVX2:
			partitionIDsImpl = partitionIDsAVX2
		default:
			partitionIDsImpl = partitionIDsGeneric
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
