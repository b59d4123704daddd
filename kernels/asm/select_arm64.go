//go:build !purego

package asm

// CompressNEON writes the indices of the set bits among the first 32*nblk
// bits of bm to dst (a table of bit positions per byte, widened with UXTL)
// and returns their count. It stores whole 8-index vectors: dst must have
// room for 32*nblk indices.
//
//go:noescape
func CompressNEON(dst *int32, bm *byte, nblk int) int

// PopCountNEON returns the number of set bits in nblk blocks of 64 bytes at p.
//
//go:noescape
func PopCountNEON(p *byte, nblk int) int

// AndNEON sets dst = a AND b over nblk blocks of 64 bytes; dst may equal a or b.
//
//go:noescape
func AndNEON(dst *byte, a *byte, b *byte, nblk int)

// OrNEON sets dst = a OR b over nblk blocks of 64 bytes; dst may equal a or b.
//
//go:noescape
func OrNEON(dst *byte, a *byte, b *byte, nblk int)

// AndNotNEON sets dst = a AND NOT b over nblk blocks of 64 bytes; dst may
// equal a or b.
//
//go:noescape
func AndNotNEON(dst *byte, a *byte, b *byte, nblk int)
