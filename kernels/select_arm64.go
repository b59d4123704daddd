//go:build !purego

package kernels

import "github.com/velo-engine/velo/kernels/asm"

// NEON: compress, popcount and the bitmap operators; Take stays in Go (no
// gather instruction in Advanced SIMD).
func init() {
	onLevel(func(l Level) {
		switch l {
		case NEON:
			compressImpl = compressNEON
			andImpl, orImpl, andNotImpl = andNEON, orNEON, andNotNEON
			popCountImpl = popCountNEON
		default:
			compressImpl = compressGeneric
			andImpl, orImpl, andNotImpl = andGeneric, orGeneric, andNotGeneric
			popCountImpl = popCountGeneric
		}
		take64Impl, take32Impl = take64Generic, take32Generic
	})
}

func compressNEON(dst []int32, bitmap []byte, n int) int {
	nblk := n >> 5
	c := 0
	if nblk > 0 {
		c = asm.CompressNEON(&dst[0], &bitmap[0], nblk)
	}
	return c + compressFrom(dst[c:], bitmap[nblk<<2:], n-nblk<<5, int32(nblk<<5))
}

func popCountNEON(p []byte) int {
	k := len(p) >> 6
	c := 0
	if k > 0 {
		c = asm.PopCountNEON(&p[0], k)
	}
	return c + popCountGeneric(p[k<<6:])
}

func andNEON(dst, a, b []byte) {
	k := len(dst) >> 6
	if k > 0 {
		asm.AndNEON(&dst[0], &a[0], &b[0], k)
	}
	andGeneric(dst[k<<6:], a[k<<6:], b[k<<6:])
}

func orNEON(dst, a, b []byte) {
	k := len(dst) >> 6
	if k > 0 {
		asm.OrNEON(&dst[0], &a[0], &b[0], k)
	}
	orGeneric(dst[k<<6:], a[k<<6:], b[k<<6:])
}

func andNotNEON(dst, a, b []byte) {
	k := len(dst) >> 6
	if k > 0 {
		asm.AndNotNEON(&dst[0], &a[0], &b[0], k)
	}
	andNotGeneric(dst[k<<6:], a[k<<6:], b[k<<6:])
}
