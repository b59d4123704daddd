//go:build !purego

package kernels

import "github.com/velo-engine/velo/kernels/asm"

// The assembly handles whole output bytes (8 rows each); the last partial
// byte is finished by the reference. Float scalars that are NaN are rewritten
// by nanScalar first, since the assembly assumes a non-NaN scalar.
func init() {
	onLevel(func(l Level) {
		switch l {
		case AVX512:
			compareInt64ScalarImpl = compareInt64ScalarAVX512
			compareInt32ScalarImpl = compareInt32ScalarAVX512
			compareFloat64ScalarImpl = compareFloat64ScalarAVX512
			compareFloat32ScalarImpl = compareFloat32ScalarAVX512
			compareInt64Impl = compareInt64AVX512
			compareInt32Impl = compareInt32AVX512
			compareFloat64Impl = compareFloat64AVX512
			compareFloat32Impl = compareFloat32AVX512
			cmpSelDense = true
		case AVX2:
			compareInt64ScalarImpl = compareInt64ScalarAVX2
			compareInt32ScalarImpl = compareInt32ScalarAVX2
			compareFloat64ScalarImpl = compareFloat64ScalarAVX2
			compareFloat32ScalarImpl = compareFloat32ScalarAVX2
			compareInt64Impl = compareInt64AVX2
			compareInt32Impl = compareInt32AVX2
			compareFloat64Impl = compareFloat64AVX2
			compareFloat32Impl = compareFloat32AVX2
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

func compareInt64ScalarAVX512(dst []byte, a []int64, op Op, s int64) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarInt64AVX512(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarIntRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareInt64ScalarAVX2(dst []byte, a []int64, op Op, s int64) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarInt64AVX2(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarIntRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareInt32ScalarAVX512(dst []byte, a []int32, op Op, s int32) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarInt32AVX512(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarIntRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareInt32ScalarAVX2(dst []byte, a []int32, op Op, s int32) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarInt32AVX2(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarIntRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareFloat64ScalarAVX512(dst []byte, a []float64, op Op, s float64) {
	if s != s {
		var c, isConst bool
		if op, c, isConst = nanScalar(op); isConst {
			fillBitmap(dst, len(a), c)
			return
		}
		s = cmpInf64
	}
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarFloat64AVX512(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarFloatRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareFloat64ScalarAVX2(dst []byte, a []float64, op Op, s float64) {
	if s != s {
		var c, isConst bool
		if op, c, isConst = nanScalar(op); isConst {
			fillBitmap(dst, len(a), c)
			return
		}
		s = cmpInf64
	}
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarFloat64AVX2(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarFloatRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareFloat32ScalarAVX512(dst []byte, a []float32, op Op, s float32) {
	if s != s {
		var c, isConst bool
		if op, c, isConst = nanScalar(op); isConst {
			fillBitmap(dst, len(a), c)
			return
		}
		s = cmpInf32
	}
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarFloat32AVX512(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarFloatRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareFloat32ScalarAVX2(dst []byte, a []float32, op Op, s float32) {
	if s != s {
		var c, isConst bool
		if op, c, isConst = nanScalar(op); isConst {
			fillBitmap(dst, len(a), c)
			return
		}
		s = cmpInf32
	}
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpScalarFloat32AVX2(&dst[0], &a[0], nb, s, int(op))
	}
	if nb<<3 < len(a) {
		cmpScalarFloatRef(dst[nb:], a[nb<<3:], op, s)
	}
}

func compareInt64AVX512(dst []byte, a, b []int64, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColInt64AVX512(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColIntRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}

func compareInt64AVX2(dst []byte, a, b []int64, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColInt64AVX2(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColIntRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}

func compareInt32AVX512(dst []byte, a, b []int32, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColInt32AVX512(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColIntRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}

func compareInt32AVX2(dst []byte, a, b []int32, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColInt32AVX2(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColIntRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}

func compareFloat64AVX512(dst []byte, a, b []float64, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColFloat64AVX512(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColFloatRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}

func compareFloat64AVX2(dst []byte, a, b []float64, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColFloat64AVX2(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColFloatRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}

func compareFloat32AVX512(dst []byte, a, b []float32, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColFloat32AVX512(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColFloatRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}

func compareFloat32AVX2(dst []byte, a, b []float32, op Op) {
	nb := len(a) >> 3
	if nb > 0 {
		asm.CmpColFloat32AVX2(&dst[0], &a[0], &b[0], nb, int(op))
	}
	if nb<<3 < len(a) {
		cmpColFloatRef(dst[nb:], a[nb<<3:], b[nb<<3:], op)
	}
}
