//go:build !purego

package asm

// The NEON comparison kernels (compare_neon_arm64.s) process n32 blocks of 32
// rows. kind selects the comparison and inv (0 or 0xffffffff) negates it:
// for the scalar and integer column forms kind 0, 1, 2 are x = y, x < y,
// x <= y; for the float column forms x <> y, x < y, x > y under the total
// order (NaN = NaN, NaN above every number). Float scalars must not be NaN.

// CmpScalarInt64NEON sets the bits of 32*n32 rows of a compared with s.
//
//go:noescape
func CmpScalarInt64NEON(dst *byte, a *int64, n32 int, s int64, kind int, inv uint32)

// CmpColInt64NEON sets the bits of 32*n32 rows of a compared with b.
//
//go:noescape
func CmpColInt64NEON(dst *byte, a *int64, b *int64, n32 int, kind int, inv uint32)

// CmpScalarInt32NEON sets the bits of 32*n32 rows of a compared with s.
//
//go:noescape
func CmpScalarInt32NEON(dst *byte, a *int32, n32 int, s int32, kind int, inv uint32)

// CmpColInt32NEON sets the bits of 32*n32 rows of a compared with b.
//
//go:noescape
func CmpColInt32NEON(dst *byte, a *int32, b *int32, n32 int, kind int, inv uint32)

// CmpScalarFloat64NEON sets the bits of 32*n32 rows of a compared with s.
//
//go:noescape
func CmpScalarFloat64NEON(dst *byte, a *float64, n32 int, s float64, kind int, inv uint32)

// CmpColFloat64NEON sets the bits of 32*n32 rows of a compared with b.
//
//go:noescape
func CmpColFloat64NEON(dst *byte, a *float64, b *float64, n32 int, kind int, inv uint32)

// CmpScalarFloat32NEON sets the bits of 32*n32 rows of a compared with s.
//
//go:noescape
func CmpScalarFloat32NEON(dst *byte, a *float32, n32 int, s float32, kind int, inv uint32)

// CmpColFloat32NEON sets the bits of 32*n32 rows of a compared with b.
//
//go:noescape
func CmpColFloat32NEON(dst *byte, a *float32, b *float32, n32 int, kind int, inv uint32)
