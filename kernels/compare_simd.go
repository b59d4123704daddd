//go:build !purego && (amd64 || arm64)

package kernels

import "math"

// ---- helpers for the assembly glue (compare_<arch>.go) ----

// nanScalar rewrites x op NaN, which the assembly (one ordered/unordered
// predicate per operator) cannot express, into an equivalent comparison
// against +Inf or a constant: x = NaN and x >= NaN hold exactly for NaN x
// (x > +Inf); x <> NaN and x < NaN hold exactly for non-NaN x (x <= +Inf);
// x <= NaN is always true and x > NaN never.
func nanScalar(op Op) (newOp Op, constant, isConst bool) {
	switch op {
	case Eq, Ge:
		return Gt, false, false
	case Ne, Lt:
		return Le, false, false
	case Le:
		return op, true, true
	default: // Gt
		return op, false, true
	}
}

// fillBitmap writes n bits of value v to dst (BitmapBytes(n) bytes, the bits
// past n zero).
func fillBitmap(dst []byte, n int, v bool) {
	nb := BitmapBytes(n)
	if !v {
		clear(dst[:nb])
		return
	}
	d := dst[:nb]
	for i := range d {
		d[i] = 0xff
	}
	if r := n & 7; r != 0 {
		d[nb-1] = byte(1)<<r - 1
	}
}

var (
	cmpInf64 = math.Inf(1)
	cmpInf32 = float32(math.Inf(1))
)
