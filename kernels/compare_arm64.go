//go:build !purego

package kernels

import "github.com/velo-engine/velo/kernels/asm"

// NEON: the assembly handles blocks of 32 rows; the last < 32 rows are
// finished by the reference. A NaN float scalar is rewritten by nanScalar.
func init() {
	onLevel(func(l Level) {
		switch l {
		case NEON:
			compareInt64ScalarImpl = compareInt64ScalarNEON
			compareInt32ScalarImpl = compareInt32ScalarNEON
			compareFloat64ScalarImpl = compareFloat64ScalarNEON
			compareFloat32ScalarImpl = compareFloat32ScalarNEON
			compareInt64Impl = compareInt64NEON
			compareInt32Impl = compareInt32NEON
			compareFloat64Impl = compareFloat64NEON
			compareFloat32Impl = compareFloat32NEON
			cmpSelDense = true
		default:
			compareInt64ScalarImpl = compareInt64ScalarGeneric
			compareInt32ScalarImpl = compareInt32ScalarGeneric
			compareFloat64ScalarImpl = compareFloat64ScalarGeneric
			compareFloat32ScalarImpl = compareFloat32ScalarGeneric
			compareInt64Impl = compareInt64Generic
			compareInt32Impl = compareInt32Generic
			compareFloat64Impl = compareFloat64Generic
			compareFloat32Impl = compareFloat32Generic
			cmpSelDense = false
		}
	})
}

// neonKind maps an operator to the NEON kernels' (kind, inv) for the scalar
// and integer column forms: kind 0, 1, 2 compute =, <, <=; inv negates.
func neonKind(op Op) (int, uint32) {
	switch op {
	case Eq:
		return 0, 0
	case Ne:
		return 0, ^uint32(0)
	case Lt:
		return 1, 0
	case Ge:
		return 1, ^uint32(0)
	case Le:
		return 2, 0
	default: // Gt
		return 2, ^uint32(0)
	}
}

// neonFloatColKind is neonKind for the float column forms, whose kinds 0, 1,
// 2 compute <>, <, > under the total order.
func neonFloatColKind(op Op) (int, uint32) {
	switch op {
	case Eq:
		return 0, ^uint32(0)
	case Ne:
		return 0, 0
	case Lt:
		return 1, 0
	case Ge:
		return 1, ^uint32(0)
	case Gt:
		return 2, 0
	default: // Le
		return 2, ^uint32(0)
	}
}

func compareInt64ScalarNEON(dst []byte, a []int64, op Op, s int64) {
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonKind(op)
		asm.CmpScalarInt64NEON(&dst[0], &a[0], n32, s, k, inv)
	}
	if n32<<5 < len(a) {
		cmpScalarIntRef(dst[n32<<2:], a[n32<<5:], op, s)
	}
}

func compareInt32ScalarNEON(dst []byte, a []int32, op Op, s int32) {
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonKind(op)
		asm.CmpScalarInt32NEON(&dst[0], &a[0], n32, s, k, inv)
	}
	if n32<<5 < len(a) {
		cmpScalarIntRef(dst[n32<<2:], a[n32<<5:], op, s)
	}
}

func compareFloat64ScalarNEON(dst []byte, a []float64, op Op, s float64) {
	if s != s {
		var c, isConst bool
		if op, c, isConst = nanScalar(op); isConst {
			fillBitmap(dst, len(a), c)
			return
		}
		s = cmpInf64
	}
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonKind(op)
		asm.CmpScalarFloat64NEON(&dst[0], &a[0], n32, s, k, inv)
	}
	if n32<<5 < len(a) {
		cmpScalarFloatRef(dst[n32<<2:], a[n32<<5:], op, s)
	}
}

func compareFloat32ScalarNEON(dst []byte, a []float32, op Op, s float32) {
	if s != s {
		var c, isConst bool
		if op, c, isConst = nanScalar(op); isConst {
			fillBitmap(dst, len(a), c)
			return
		}
		s = cmpInf32
	}
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonKind(op)
		asm.CmpScalarFloat32NEON(&dst[0], &a[0], n32, s, k, inv)
	}
	if n32<<5 < len(a) {
		cmpScalarFloatRef(dst[n32<<2:], a[n32<<5:], op, s)
	}
}

func compareInt64NEON(dst []byte, a, b []int64, op Op) {
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonKind(op)
		asm.CmpColInt64NEON(&dst[0], &a[0], &b[0], n32, k, inv)
	}
	if n32<<5 < len(a) {
		cmpColIntRef(dst[n32<<2:], a[n32<<5:], b[n32<<5:], op)
	}
}

func compareInt32NEON(dst []byte, a, b []int32, op Op) {
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonKind(op)
		asm.CmpColInt32NEON(&dst[0], &a[0], &b[0], n32, k, inv)
	}
	if n32<<5 < len(a) {
		cmpColIntRef(dst[n32<<2:], a[n32<<5:], b[n32<<5:], op)
	}
}

func compareFloat64NEON(dst []byte, a, b []float64, op Op) {
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonFloatColKind(op)
		asm.CmpColFloat64NEON(&dst[0], &a[0], &b[0], n32, k, inv)
	}
	if n32<<5 < len(a) {
		cmpColFloatRef(dst[n32<<2:], a[n32<<5:], b[n32<<5:], op)
	}
}

func compareFloat32NEON(dst []byte, a, b []float32, op Op) {
	n32 := len(a) >> 5
	if n32 > 0 {
		k, inv := neonFloatColKind(op)
		asm.CmpColFloat32NEON(&dst[0], &a[0], &b[0], n32, k, inv)
	}
	if n32<<5 < len(a) {
		cmpColFloatRef(dst[n32<<2:], a[n32<<5:], b[n32<<5:], op)
	}
}
