//go:build !purego

package asm

// SumInt64NEON adds n int64s at p (n a multiple of 16) to acc: acc[0:4] += their low 32 bits (unsigned), acc[8:12] += their high 32 bits (signed).
//
//go:noescape
func SumInt64NEON(p *int64, n int, acc *[16]uint64)

// SumFloat64NEON adds n float64s at p (n a multiple of 16) to the 16 lanes in acc, row i of each 16 to lane i%16.
//
//go:noescape
func SumFloat64NEON(p *float64, n int, acc *[16]float64)

// MinInt64NEON folds n int64s at p (n a multiple of 16) into the per-lane minima acc[0:8].
//
//go:noescape
func MinInt64NEON(p *int64, n int, acc *[16]int64)

// MaxInt64NEON folds n int64s at p (n a multiple of 16) into the per-lane maxima acc[0:8].
//
//go:noescape
func MaxInt64NEON(p *int64, n int, acc *[16]int64)

// MinFloat64NEON folds the order keys of n float64s at p (n a multiple of 16) into the per-lane minima acc[0:8].
//
//go:noescape
func MinFloat64NEON(p *float64, n int, acc *[16]int64)

// MaxFloat64NEON folds the order keys of n float64s at p (n a multiple of 16) into the per-lane maxima acc[0:8].
//
//go:noescape
func MaxFloat64NEON(p *float64, n int, acc *[16]int64)

// SumInt64MaskedNEON adds the valid ones of n int64s at p (n a multiple of 64; the validity of row 0 is bit shift of *bm) to acc: acc[0:4] += their low 32 bits (unsigned), acc[8:12] += their high 32 bits (signed).
//
//go:noescape
func SumInt64MaskedNEON(p *int64, n int, bm *byte, shift uint, acc *[16]uint64)

// SumFloat64MaskedNEON adds the valid ones of n float64s at p (n a multiple of 64; the validity of row 0 is bit shift of *bm) to the 16 lanes in acc, row i of each 16 to lane i%16.
//
//go:noescape
func SumFloat64MaskedNEON(p *float64, n int, bm *byte, shift uint, acc *[16]float64)

// MinInt64MaskedNEON folds the valid ones of n int64s at p (n a multiple of 64; the validity of row 0 is bit shift of *bm) into the per-lane minima acc[0:8].
//
//go:noescape
func MinInt64MaskedNEON(p *int64, n int, bm *byte, shift uint, acc *[16]int64)

// MaxInt64MaskedNEON folds the valid ones of n int64s at p (n a multiple of 64; the validity of row 0 is bit shift of *bm) into the per-lane maxima acc[0:8].
//
//go:noescape
func MaxInt64MaskedNEON(p *int64, n int, bm *byte, shift uint, acc *[16]int64)

// MinFloat64MaskedNEON folds the order keys of the valid ones of n float64s at p (n a multiple of 64; the validity of row 0 is bit shift of *bm) into the per-lane minima acc[0:8].
//
//go:noescape
func MinFloat64MaskedNEON(p *float64, n int, bm *byte, shift uint, acc *[16]int64)

// MaxFloat64MaskedNEON folds the order keys of the valid ones of n float64s at p (n a multiple of 64; the validity of row 0 is bit shift of *bm) into the per-lane maxima acc[0:8].
//
//go:noescape
func MaxFloat64MaskedNEON(p *float64, n int, bm *byte, shift uint, acc *[16]int64)
