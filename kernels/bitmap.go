package kernels

// Bitmap kernels over Arrow-layout (LSB-first) bitmaps: bit i is byte i/8,
// bit i%8. Every function here takes the number of bits n; inputs must hold
// BitmapBytes(n) bytes (shorter ones panic). Outputs are written over exactly
// BitmapBytes(n) bytes with the bits past n in the last byte zero, so results
// can be fed to Compress and PopCount without masking.
//
// Arrow validity bitmaps may start at a bit offset (array.Data().Offset()):
// CopyBitmap moves such a bitmap to bit 0 first.

import (
	"encoding/binary"
	"math/bits"
)

// BitmapBytes returns the number of bytes of a bitmap of n bits: (n+7)/8.
func BitmapBytes(n int) int { return (n + 7) >> 3 }

// Dispatched implementations (swapped by select_<arch>.go); each works on
// nb = BitmapBytes(n) whole bytes and leaves the last byte's masking to the
// caller.
var (
	andImpl      = andGeneric
	orImpl       = orGeneric
	andNotImpl   = andNotGeneric
	popCountImpl = popCountGeneric
)

func checkBitmaps(dst, a, b []byte, n int) int {
	if n < 0 {
		panic("kernels: bitmap: negative bit count")
	}
	nb := BitmapBytes(n)
	if len(dst) < nb || len(a) < nb || len(b) < nb {
		panic("kernels: bitmap: slice shorter than BitmapBytes(n)")
	}
	return nb
}

// bitmapMaskLast clears the bits past n in the last byte of an n-bit bitmap.
func bitmapMaskLast(dst []byte, n int) {
	if r := n & 7; r != 0 {
		dst[n>>3] &= byte(1)<<r - 1
	}
}

// And sets dst = a AND b over n bits. dst may be a or b.
func And(dst, a, b []byte, n int) {
	nb := checkBitmaps(dst, a, b, n)
	andImpl(dst[:nb], a[:nb], b[:nb])
	bitmapMaskLast(dst, n)
}

// Or sets dst = a OR b over n bits. dst may be a or b.
func Or(dst, a, b []byte, n int) {
	nb := checkBitmaps(dst, a, b, n)
	orImpl(dst[:nb], a[:nb], b[:nb])
	bitmapMaskLast(dst, n)
}

// AndNot sets dst = a AND NOT b over n bits (rows of a not in b). dst may be a or b.
func AndNot(dst, a, b []byte, n int) {
	nb := checkBitmaps(dst, a, b, n)
	andNotImpl(dst[:nb], a[:nb], b[:nb])
	bitmapMaskLast(dst, n)
}

// PopCount returns the number of set bits among the first n bits of bitmap
// (bits past n in the last byte are ignored).
func PopCount(bitmap []byte, n int) int {
	if n < 0 || len(bitmap) < BitmapBytes(n) {
		panic("kernels: PopCount: bitmap shorter than BitmapBytes(n)")
	}
	full := n >> 3
	c := popCountImpl(bitmap[:full])
	if r := n & 7; r != 0 {
		c += bits.OnesCount8(bitmap[full] & (byte(1)<<r - 1))
	}
	return c
}

// CopyBitmap copies bits [off, off+n) of src to bits [0, n) of dst, writing
// BitmapBytes(n) bytes of dst (bits past n zero). src must hold
// BitmapBytes(off+n) bytes. Use it to align an Arrow validity bitmap that
// starts at a bit offset before And/Or/Compress.
func CopyBitmap(dst, src []byte, off, n int) {
	if n < 0 || off < 0 {
		panic("kernels: CopyBitmap: negative offset or bit count")
	}
	nb := BitmapBytes(n)
	if len(dst) < nb || len(src) < BitmapBytes(off+n) {
		panic("kernels: CopyBitmap: slice too short")
	}
	if nb == 0 {
		return
	}
	src = src[off>>3 : BitmapBytes(off+n)]
	sh := uint(off & 7)
	if sh == 0 {
		copy(dst[:nb], src[:nb])
		bitmapMaskLast(dst, n)
		return
	}
	// dst byte i = src[i]>>sh | src[i+1]<<(8-sh); 8 bytes at a time while
	// src has a 9th byte to read.
	i := 0
	for ; i+9 <= len(src) && i+8 <= nb; i += 8 {
		lo := binary.LittleEndian.Uint64(src[i:])
		binary.LittleEndian.PutUint64(dst[i:], lo>>sh|uint64(src[i+8])<<(64-sh))
	}
	for ; i < nb; i++ {
		v := src[i] >> sh
		if i+1 < len(src) {
			v |= src[i+1] << (8 - sh)
		}
		dst[i] = v
	}
	bitmapMaskLast(dst, n)
}

// ---- references (whole bytes) ----

func andGeneric(dst, a, b []byte) {
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(a[i:])&binary.LittleEndian.Uint64(b[i:]))
	}
	for ; i < len(dst); i++ {
		dst[i] = a[i] & b[i]
	}
}

func orGeneric(dst, a, b []byte) {
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(a[i:])|binary.LittleEndian.Uint64(b[i:]))
	}
	for ; i < len(dst); i++ {
		dst[i] = a[i] | b[i]
	}
}

func andNotGeneric(dst, a, b []byte) {
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(a[i:])&^binary.LittleEndian.Uint64(b[i:]))
	}
	for ; i < len(dst); i++ {
		dst[i] = a[i] &^ b[i]
	}
}

func popCountGeneric(p []byte) int {
	c, i := 0, 0
	for ; i+8 <= len(p); i += 8 {
		c += bits.OnesCount64(binary.LittleEndian.Uint64(p[i:]))
	}
	for ; i < len(p); i++ {
		c += bits.OnesCount8(p[i])
	}
	return c
}
