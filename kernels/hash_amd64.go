//go:build !purego

package kernels

import "github.com/velo-engine/velo/kernels/asm"

func init() {
	onLevel(func(l Level) {
		switch l {
		case AVX512:
			hashUint64Impl = hashUint64AVX512
			hashFloat64Impl = hashFloat64AVX512
			hashCombineImpl = hashCombineAVX512
		case AVX2:
			hashUint64Impl = hashUint64AVX2
			hashFloat64Impl = hashFloat64AVX2
			hashCombineImpl = hashCombineAVX2
		default:
			hashUint64Impl = hashUint64Generic
			hashFloat64Impl = hashFloat64Generic
			hashCombineImpl = hashCombineGeneric
		}
	})
}

// The assembly handles whole vectors (8 lanes for AVX-512, 4 for AVX2); the
// remaining rows run through the reference.

func hashUint64AVX512(dst, keys []uint64) {
	asm.HashUint64AVX512(dst, keys)
	k := len(keys) &^ 7
	hashUint64Generic(dst[k:], keys[k:])
}

func hashFloat64AVX512(dst []uint64, keys []float64) {
	asm.HashFloat64AVX512(dst, keys)
	k := len(keys) &^ 7
	hashFloat64Generic(dst[k:], keys[k:])
}

func hashCombineAVX512(dst, h []uint64) {
	asm.HashCombineAVX512(dst, h)
	k := len(h) &^ 7
	hashCombineGeneric(dst[k:], h[k:])
}

func hashUint64AVX2(dst, keys []uint64) {
	asm.HashUint64AVX2(dst, keys)
	k := len(keys) &^ 3
	hashUint64Generic(dst[k:], keys[k:])
}

func hashFloat64AVX2(dst []uint64, keys []float64) {
	asm.HashFloat64AVX2(dst, keys)
	k := len(keys) &^ 3
	hashFloat64Generic(dst[k:], keys[k:])
}

func hashCombineAVX2(dst, h []uint64) {
	asm.HashCombineAVX2(dst, h)
	k := len(h) &^ 3
	hashCombineGeneric(dst[k:], h[k:])
}
