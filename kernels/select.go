package kernels

// Selection kernels: Compress turns a bitmap into a selection vector (the
// ascending indices of its set bits), and the Take functions gather a
// fixed-width column by a selection vector. Together with Compare*, And and
// PopCount they implement filters without copying rows: a filter's output is
// a selection vector over the unchanged batch.

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Dispatched implementations (swapped by select_<arch>.go).
var (
	compressImpl = compressGeneric
	take64Impl   = take64Generic
	take32Impl   = take32Generic
)

// Compress writes to dst the indices i < n whose bit is set in bitmap,
// ascending, and returns their count c. dst must hold at least n entries
// (the vector routines store whole vectors of candidate indices); its entries
// from c on are unspecified afterwards. bitmap must hold BitmapBytes(n)
// bytes; bits past n are ignored.
func Compress(dst []int32, bitmap []byte, n int) int {
	if n < 0 || len(bitmap) < BitmapBytes(n) {
		panic("kernels: Compress: bitmap shorter than BitmapBytes(n)")
	}
	if len(dst) < n {
		panic("kernels: Compress: dst shorter than n")
	}
	if n > 1<<31 {
		panic("kernels: Compress: n exceeds the int32 index range")
	}
	return compressImpl(dst[:n], bitmap, n)
}

// compressGeneric is the reference of Compress: 64 bits at a time, one
// TrailingZeros64 and one clear-lowest-bit per set bit.
func compressGeneric(dst []int32, bitmap []byte, n int) int {
	return compressFrom(dst, bitmap, n, 0)
}

// compressFrom compresses bits [0, n) of bitmap with indices offset by base.
func compressFrom(dst []int32, bitmap []byte, n int, base int32) int {
	out := 0
	for i := 0; i < n; i += 64 {
		var w uint64
		if i+64 <= n {
			w = binary.LittleEndian.Uint64(bitmap[i>>3:])
		} else {
			nb := BitmapBytes(n) - i>>3
			for j := 0; j < nb; j++ {
				w |= uint64(bitmap[i>>3+j]) << (8 * j)
			}
			w &= 1<<uint(n-i) - 1
		}
		for w != 0 {
			dst[out] = base + int32(i+bits.TrailingZeros64(w))
			out++
			w &= w - 1
		}
	}
	return out
}

func checkTake(ndst, nsel int) {
	if ndst < nsel {
		panic("kernels: Take: dst shorter than sel")
	}
}

// TakeInt64 sets dst[k] = src[sel[k]] for every k; len(dst) must be at least
// len(sel), and an index outside src panics.
func TakeInt64(dst, src []int64, sel []int32) {
	checkTake(len(dst), len(sel))
	take64Impl(selAsU64(dst), selAsU64(src), sel)
}

// TakeFloat64 sets dst[k] = src[sel[k]] for every k (bit copies: NaN payloads
// and -0.0 survive); len(dst) must be at least len(sel), and an index outside
// src panics.
func TakeFloat64(dst, src []float64, sel []int32) {
	checkTake(len(dst), len(sel))
	take64Impl(selAsU64(dst), selAsU64(src), sel)
}

// TakeInt32 sets dst[k] = src[sel[k]] for every k; len(dst) must be at least
// len(sel), and an index outside src panics.
func TakeInt32(dst, src []int32, sel []int32) {
	checkTake(len(dst), len(sel))
	take32Impl(selAsU32(dst), selAsU32(src), sel)
}

// TakeUint32 sets dst[k] = src[sel[k]] for every k; len(dst) must be at least
// len(sel), and an index outside src panics. It also maps a selection vector
// through another (dst[k] = outer[inner[k]]) and takes float32 columns
// reinterpreted as uint32.
func TakeUint32(dst, src []uint32, sel []int32) {
	checkTake(len(dst), len(sel))
	take32Impl(dst, src, sel)
}

// take64Generic is the reference of the 8-byte Take functions.
func take64Generic(dst, src []uint64, sel []int32) {
	dst = dst[:len(sel)]
	for k, i := range sel {
		dst[k] = src[i]
	}
}

// take32Generic is the reference of the 4-byte Take functions.
func take32Generic(dst, src []uint32, sel []int32) {
	dst = dst[:len(sel)]
	for k, i := range sel {
		dst[k] = src[i]
	}
}

func selAsU64[T ~int64 | ~float64](s []T) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func selAsU32[T ~int32 | ~float32](s []T) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
