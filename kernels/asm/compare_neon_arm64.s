//go:build !purego

#include "textflag.h"

// NEON comparison kernels: 32 rows per iteration, n32 iterations; package
// kernels finishes the last < 32 rows in Go. kind selects the comparison
// (see kernels/compare_arm64.go for the mapping from Op):
//
//	scalar and integer column:  0: x = y    1: x < y    2: x <= y
//	float column (total order): 0: x <> y   1: x < y    2: x > y
//
// and every result word is XORed with inv (0 or 0xffffffff) to negate it.
// The masks are narrowed to bits with UZP1 (64 → 32 → 16 → 8-bit lanes),
// ANDed with the bit weights 1, 2, ..., 128 and summed by three pairwise
// ADDPs into 4 bytes = 32 result bits.
//
// Go's arm64 assembler has no mnemonics for the register forms of CMGT,
// CMGE, FCMEQ, FCMGE and FCMGT, so these are WORD encodings built by the
// macros below (operands in Go order: Vd = Vn op Vm); CMEQ uses VCMEQ.

#define CMGT_D2(m, n, d) WORD $(0x4ee03400 | ((m)<<16) | ((n)<<5) | (d)) // CMGT Vd.2D, Vn.2D, Vm.2D
#define CMGE_D2(m, n, d) WORD $(0x4ee03c00 | ((m)<<16) | ((n)<<5) | (d)) // CMGE Vd.2D, Vn.2D, Vm.2D
#define CMGT_S4(m, n, d) WORD $(0x4ea03400 | ((m)<<16) | ((n)<<5) | (d)) // CMGT Vd.4S, Vn.4S, Vm.4S
#define CMGE_S4(m, n, d) WORD $(0x4ea03c00 | ((m)<<16) | ((n)<<5) | (d)) // CMGE Vd.4S, Vn.4S, Vm.4S
#define FCMEQ_D2(m, n, d) WORD $(0x4e60e400 | ((m)<<16) | ((n)<<5) | (d)) // FCMEQ Vd.2D, Vn.2D, Vm.2D
#define FCMEQ_S4(m, n, d) WORD $(0x4e20e400 | ((m)<<16) | ((n)<<5) | (d)) // FCMEQ Vd.4S, Vn.4S, Vm.4S
#define FCMGE_D2(m, n, d) WORD $(0x6e60e400 | ((m)<<16) | ((n)<<5) | (d)) // FCMGE Vd.2D, Vn.2D, Vm.2D
#define FCMGE_S4(m, n, d) WORD $(0x6e20e400 | ((m)<<16) | ((n)<<5) | (d)) // FCMGE Vd.4S, Vn.4S, Vm.4S
#define FCMGT_D2(m, n, d) WORD $(0x6ee0e400 | ((m)<<16) | ((n)<<5) | (d)) // FCMGT Vd.2D, Vn.2D, Vm.2D
#define FCMGT_S4(m, n, d) WORD $(0x6ea0e400 | ((m)<<16) | ((n)<<5) | (d)) // FCMGT Vd.4S, Vn.4S, Vm.4S

// Scalar comparisons of Vi against the broadcast scalar in V31.
#define S_EQ_D(i, Vi) VCMEQ V31.D2, Vi.D2, Vi.D2
#define S_LT_D(i, Vi) CMGT_D2(i, 31, i)
#define S_LE_D(i, Vi) CMGE_D2(i, 31, i)
#define S_EQ_S(i, Vi) VCMEQ V31.S4, Vi.S4, Vi.S4
#define S_LT_S(i, Vi) CMGT_S4(i, 31, i)
#define S_LE_S(i, Vi) CMGE_S4(i, 31, i)
#define FS_EQ_D(i, Vi) FCMEQ_D2(31, i, i)
#define FS_LT_D(i, Vi) FCMGT_D2(i, 31, i)
#define FS_LE_D(i, Vi) FCMGE_D2(i, 31, i)
#define FS_EQ_S(i, Vi) FCMEQ_S4(31, i, i)
#define FS_LT_S(i, Vi) FCMGT_S4(i, 31, i)
#define FS_LE_S(i, Vi) FCMGE_S4(i, 31, i)

// Column comparisons: Vi = a, Vj = b; the result replaces Vi (Vj, V24, V25
// are clobbered). Floats: x <> y = (ord(x) | ord(y)) ^ (x == y),
// x < y = ord(x) ^ (x >= y), x > y = ord(y) ^ (y >= x), where ord(v) = (v == v);
// each XOR clears bits that the ordered compare can only set where ord holds.
#define C_EQ_D(i, Vi, j, Vj) VCMEQ Vj.D2, Vi.D2, Vi.D2
#define C_LT_D(i, Vi, j, Vj) CMGT_D2(i, j, i)
#define C_LE_D(i, Vi, j, Vj) CMGE_D2(i, j, i)
#define C_EQ_S(i, Vi, j, Vj) VCMEQ Vj.S4, Vi.S4, Vi.S4
#define C_LT_S(i, Vi, j, Vj) CMGT_S4(i, j, i)
#define C_LE_S(i, Vi, j, Vj) CMGE_S4(i, j, i)
#define FC_NE_D(i, Vi, j, Vj) FCMEQ_D2(j, i, 24); FCMEQ_D2(i, i, 25); FCMEQ_D2(j, j, j); VORR V25.B16, Vj.B16, Vj.B16; VEOR V24.B16, Vj.B16, Vi.B16
#define FC_LT_D(i, Vi, j, Vj) FCMGE_D2(j, i, 24); FCMEQ_D2(i, i, i); VEOR V24.B16, Vi.B16, Vi.B16
#define FC_GT_D(i, Vi, j, Vj) FCMGE_D2(i, j, 24); FCMEQ_D2(j, j, j); VEOR V24.B16, Vj.B16, Vi.B16
#define FC_NE_S(i, Vi, j, Vj) FCMEQ_S4(j, i, 24); FCMEQ_S4(i, i, 25); FCMEQ_S4(j, j, j); VORR V25.B16, Vj.B16, Vj.B16; VEOR V24.B16, Vj.B16, Vi.B16
#define FC_LT_S(i, Vi, j, Vj) FCMGE_S4(j, i, 24); FCMEQ_S4(i, i, i); VEOR V24.B16, Vi.B16, Vi.B16
#define FC_GT_S(i, Vi, j, Vj) FCMGE_S4(i, j, 24); FCMEQ_S4(j, j, j); VEOR V24.B16, Vj.B16, Vi.B16

#define EACH8(OP) OP(0, V0); OP(1, V1); OP(2, V2); OP(3, V3); OP(4, V4); OP(5, V5); OP(6, V6); OP(7, V7)
#define EACH16(OP) EACH8(OP); OP(8, V8); OP(9, V9); OP(10, V10); OP(11, V11); OP(12, V12); OP(13, V13); OP(14, V14); OP(15, V15)
#define PAIRS_LO(OP) OP(0, V0, 16, V16); OP(1, V1, 17, V17); OP(2, V2, 18, V18); OP(3, V3, 19, V19); OP(4, V4, 20, V20); OP(5, V5, 21, V21); OP(6, V6, 22, V22); OP(7, V7, 23, V23)
#define PAIRS_HI(OP) OP(8, V8, 16, V16); OP(9, V9, 17, V17); OP(10, V10, 18, V18); OP(11, V11, 19, V19); OP(12, V12, 20, V20); OP(13, V13, 21, V21); OP(14, V14, 22, V22); OP(15, V15, 23, V23)

// Loads: 32 rows of 8 bytes into V0..V15, of 4 bytes into V0..V7.
#define LOAD_A64 VLD1.P 64(R1), [V0.D2, V1.D2, V2.D2, V3.D2]; VLD1.P 64(R1), [V4.D2, V5.D2, V6.D2, V7.D2]; VLD1.P 64(R1), [V8.D2, V9.D2, V10.D2, V11.D2]; VLD1.P 64(R1), [V12.D2, V13.D2, V14.D2, V15.D2]
#define LOAD_A32 VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]; VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
#define LOAD_A64_LO VLD1.P 64(R1), [V0.D2, V1.D2, V2.D2, V3.D2]; VLD1.P 64(R1), [V4.D2, V5.D2, V6.D2, V7.D2]
#define LOAD_A64_HI VLD1.P 64(R1), [V8.D2, V9.D2, V10.D2, V11.D2]; VLD1.P 64(R1), [V12.D2, V13.D2, V14.D2, V15.D2]
#define LOAD_B8 VLD1.P 64(R6), [V16.D2, V17.D2, V18.D2, V19.D2]; VLD1.P 64(R6), [V20.D2, V21.D2, V22.D2, V23.D2]

// Narrowing: masks → 32 bits in R7, XOR inv (R5), store 4 bytes at R0.
#define BYTES_OUT \
	VUZP1 V25.B16, V24.B16, V28.B16; VUZP1 V27.B16, V26.B16, V29.B16; \
	VAND V30.B16, V28.B16, V28.B16; VAND V30.B16, V29.B16, V29.B16; \
	VADDP V29.B16, V28.B16, V28.B16; VADDP V28.B16, V28.B16, V28.B16; VADDP V28.B16, V28.B16, V28.B16; \
	VMOV V28.S[0], R7; EORW R5, R7, R7; MOVW R7, (R0); ADD $4, R0
#define NARROW64 \
	VUZP1 V1.S4, V0.S4, V16.S4; VUZP1 V3.S4, V2.S4, V17.S4; VUZP1 V5.S4, V4.S4, V18.S4; VUZP1 V7.S4, V6.S4, V19.S4; \
	VUZP1 V9.S4, V8.S4, V20.S4; VUZP1 V11.S4, V10.S4, V21.S4; VUZP1 V13.S4, V12.S4, V22.S4; VUZP1 V15.S4, V14.S4, V23.S4; \
	VUZP1 V17.H8, V16.H8, V24.H8; VUZP1 V19.H8, V18.H8, V25.H8; VUZP1 V21.H8, V20.H8, V26.H8; VUZP1 V23.H8, V22.H8, V27.H8; \
	BYTES_OUT
#define NARROW32 \
	VUZP1 V1.H8, V0.H8, V24.H8; VUZP1 V3.H8, V2.H8, V25.H8; VUZP1 V5.H8, V4.H8, V26.H8; VUZP1 V7.H8, V6.H8, V27.H8; \
	BYTES_OUT

#define WEIGHTS MOVD $cmpNeonWeights<>(SB), R7; VLD1 (R7), [V30.B16]

DATA cmpNeonWeights<>+0(SB)/8, $0x8040201008040201
DATA cmpNeonWeights<>+8(SB)/8, $0x8040201008040201
GLOBL cmpNeonWeights<>(SB), RODATA|NOPTR, $16

// func CmpScalarInt64NEON(dst *byte, a *int64, n32 int, s int64, kind int, inv uint32)
TEXT ·CmpScalarInt64NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  n32+16(FP), R2
	MOVD s+24(FP), R3
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	VDUP R3, V31.D2
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A64
	EACH16(S_EQ_D)
	NARROW64
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A64
	EACH16(S_LT_D)
	NARROW64
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A64
	EACH16(S_LE_D)
	NARROW64
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET

// func CmpColInt64NEON(dst *byte, a *int64, b *int64, n32 int, kind int, inv uint32)
TEXT ·CmpColInt64NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  b+16(FP), R6
	MOVD  n32+24(FP), R2
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A64_LO
	LOAD_B8
	PAIRS_LO(C_EQ_D)
	LOAD_A64_HI
	LOAD_B8
	PAIRS_HI(C_EQ_D)
	NARROW64
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A64_LO
	LOAD_B8
	PAIRS_LO(C_LT_D)
	LOAD_A64_HI
	LOAD_B8
	PAIRS_HI(C_LT_D)
	NARROW64
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A64_LO
	LOAD_B8
	PAIRS_LO(C_LE_D)
	LOAD_A64_HI
	LOAD_B8
	PAIRS_HI(C_LE_D)
	NARROW64
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET

// func CmpScalarInt32NEON(dst *byte, a *int32, n32 int, s int32, kind int, inv uint32)
TEXT ·CmpScalarInt32NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  n32+16(FP), R2
	MOVW s+24(FP), R3
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	VDUP R3, V31.S4
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A32
	EACH8(S_EQ_S)
	NARROW32
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A32
	EACH8(S_LT_S)
	NARROW32
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A32
	EACH8(S_LE_S)
	NARROW32
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET

// func CmpColInt32NEON(dst *byte, a *int32, b *int32, n32 int, kind int, inv uint32)
TEXT ·CmpColInt32NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  b+16(FP), R6
	MOVD  n32+24(FP), R2
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A32
	VLD1.P 64(R6), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R6), [V20.S4, V21.S4, V22.S4, V23.S4]
	PAIRS_LO(C_EQ_S)
	NARROW32
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A32
	VLD1.P 64(R6), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R6), [V20.S4, V21.S4, V22.S4, V23.S4]
	PAIRS_LO(C_LT_S)
	NARROW32
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A32
	VLD1.P 64(R6), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R6), [V20.S4, V21.S4, V22.S4, V23.S4]
	PAIRS_LO(C_LE_S)
	NARROW32
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET

// func CmpScalarFloat64NEON(dst *byte, a *float64, n32 int, s float64, kind int, inv uint32)
TEXT ·CmpScalarFloat64NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  n32+16(FP), R2
	FMOVD s+24(FP), F31
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	VDUP V31.D[0], V31.D2
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A64
	EACH16(FS_EQ_D)
	NARROW64
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A64
	EACH16(FS_LT_D)
	NARROW64
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A64
	EACH16(FS_LE_D)
	NARROW64
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET

// func CmpColFloat64NEON(dst *byte, a *float64, b *float64, n32 int, kind int, inv uint32)
TEXT ·CmpColFloat64NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  b+16(FP), R6
	MOVD  n32+24(FP), R2
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A64_LO
	LOAD_B8
	PAIRS_LO(FC_NE_D)
	LOAD_A64_HI
	LOAD_B8
	PAIRS_HI(FC_NE_D)
	NARROW64
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A64_LO
	LOAD_B8
	PAIRS_LO(FC_LT_D)
	LOAD_A64_HI
	LOAD_B8
	PAIRS_HI(FC_LT_D)
	NARROW64
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A64_LO
	LOAD_B8
	PAIRS_LO(FC_GT_D)
	LOAD_A64_HI
	LOAD_B8
	PAIRS_HI(FC_GT_D)
	NARROW64
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET

// func CmpScalarFloat32NEON(dst *byte, a *float32, n32 int, s float32, kind int, inv uint32)
TEXT ·CmpScalarFloat32NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  n32+16(FP), R2
	FMOVS s+24(FP), F31
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	VDUP V31.S[0], V31.S4
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A32
	EACH8(FS_EQ_S)
	NARROW32
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A32
	EACH8(FS_LT_S)
	NARROW32
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A32
	EACH8(FS_LE_S)
	NARROW32
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET

// func CmpColFloat32NEON(dst *byte, a *float32, b *float32, n32 int, kind int, inv uint32)
TEXT ·CmpColFloat32NEON(SB), NOSPLIT, $0-44
	MOVD  dst+0(FP), R0
	MOVD  a+8(FP), R1
	MOVD  b+16(FP), R6
	MOVD  n32+24(FP), R2
	MOVD  kind+32(FP), R4
	MOVWU inv+40(FP), R5
	WEIGHTS
	CBZ   R2, done
	CMP   $1, R4
	BEQ   k1
	CMP   $2, R4
	BEQ   k2

k0:
	LOAD_A32
	VLD1.P 64(R6), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R6), [V20.S4, V21.S4, V22.S4, V23.S4]
	PAIRS_LO(FC_NE_S)
	NARROW32
	SUBS  $1, R2
	BNE   k0
	RET

k1:
	LOAD_A32
	VLD1.P 64(R6), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R6), [V20.S4, V21.S4, V22.S4, V23.S4]
	PAIRS_LO(FC_LT_S)
	NARROW32
	SUBS  $1, R2
	BNE   k1
	RET

k2:
	LOAD_A32
	VLD1.P 64(R6), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R6), [V20.S4, V21.S4, V22.S4, V23.S4]
	PAIRS_LO(FC_GT_S)
	NARROW32
	SUBS  $1, R2
	BNE   k2
	RET

done:
	RET
