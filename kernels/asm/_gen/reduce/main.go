// Command reduce generates the AVX2 and AVX-512 block routines of Velo's
// reductions (kernels/reduce.go): SUM, MIN and MAX of int64 and float64, each
// dense and with a validity bitmap.
//
// Every routine folds whole blocks into lane accumulators that live in the
// caller's acc array (read at entry, written at exit); the caller (package
// kernels) finishes the tail and combines the lanes:
//
//   - SumInt64*: acc[0:8] += low 32 bits of each value (unsigned),
//     acc[8:16] += high 32 bits (signed, v>>32), so Σv = Σlo + 2^32·Σhi
//     exactly (AVX2 uses lanes 0..3 and 8..11 only).
//   - SumFloat64*: 16 lanes; element i goes to lane i%16 (index order).
//   - Min/Max*: acc[0:8] (AVX2: acc[0:4]) keep the per-lane min or max of the
//     int64 values, or of the float keys k = bits ^ ((bits>>63)>>>1) with
//     every NaN mapped to MaxInt64 (a total order, NaN on top).
//
// Dense routines take n a multiple of 32 (AVX-512) or 16 (AVX2); masked ones
// a multiple of 64, with the validity of row 0 at bit `shift` (0..7) of *bm.
// Masked rows leave the lanes unchanged. No routine reads past the n values
// or past the last validity byte that holds one of their bits.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

type kind int

const (
	sumI kind = iota
	sumF
	minI
	maxI
	minF
	maxF
)

var kinds = []kind{sumI, sumF, minI, maxI, minF, maxF}

func (k kind) name() string {
	return [...]string{"SumInt64", "SumFloat64", "MinInt64", "MaxInt64", "MinFloat64", "MaxFloat64"}[k]
}

func (k kind) isFloatKey() bool { return k == minF || k == maxF }
func (k kind) isMax() bool      { return k == maxI || k == maxF }
func (k kind) isMinMax() bool   { return k >= minI }

func (k kind) signature(masked bool) string {
	elem := "int64"
	if k == sumF || k.isFloatKey() {
		elem = "float64"
	}
	acc := "*[16]int64"
	switch k {
	case sumI:
		acc = "*[16]uint64"
	case sumF:
		acc = "*[16]float64"
	}
	if masked {
		return fmt.Sprintf("func(p *%s, n int, bm *byte, shift uint, acc %s)", elem, acc)
	}
	return fmt.Sprintf("func(p *%s, n int, acc %s)", elem, acc)
}

// bitShift4 is the constant [63, 62, 61, 60] (see gen256).
var bitShift4 Mem

func main() {
	stableHeader()
	ConstraintExpr("!purego")
	bitShift4 = GLOBL("reduce_bitshift4", RODATA|NOPTR)
	for l := 0; l < 4; l++ {
		DATA(8*l, U64(63-l))
	}
	for _, k := range kinds {
		for _, masked := range []bool{false, true} {
			gen512(k, masked)
		}
	}
	for _, k := range kinds {
		for _, masked := range []bool{false, true} {
			gen256(k, masked)
		}
	}
	Generate()
}

func fnName(k kind, masked bool, isa string) string {
	n := k.name()
	if masked {
		n += "Masked"
	}
	return n + isa
}

// validityWord loads the next 64 validity bits (rows i..i+63) into w:
// w = *(uint64*)bm >> shift | bm[8] << (64-shift), the second load only when
// shift != 0 (then bm[8] holds row i+63's bit, so it is in bounds).
func validityWord(bm, w, t Register, label string) {
	MOVQ(Mem{Base: bm}, w)
	TESTQ(RCX, RCX)
	JZ(LabelRef(label))
	MOVBQZX(Mem{Base: bm, Disp: 8}, t)
	SHRQ(CL, t, w)
	Label(label)
}

// ---------------------------------------------------------------------------
// AVX-512

func gen512(k kind, masked bool) {
	name := fnName(k, masked, "AVX512")
	TEXT(name, NOSPLIT, k.signature(masked))
	Pragma("noescape")
	doc := fmt.Sprintf("%s folds n values at p into acc with AVX-512 (n a multiple of %d).", name, 32)
	if masked {
		doc = fmt.Sprintf("%s folds the valid ones of n values at p (validity from bit shift of *bm) into acc with AVX-512 (n a multiple of 64).", name)
	}
	Doc(doc)

	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	var bm GPVirtual
	if masked {
		bm = GP64()
		Load(Param("bm"), bm)
		Load(Param("shift"), RCX)
	}

	// Accumulators and constants.
	var a [2]VecVirtual // sumI: lo, hi; sumF: lanes 0-7, 8-15; min/max: two copies
	var m32, maxv VecVirtual
	a[0], a[1] = ZMM(), ZMM()
	switch {
	case k == sumI:
		VMOVDQU64(Mem{Base: acc}, a[0])
		VMOVDQU64(Mem{Base: acc, Disp: 64}, a[1])
		t := GP64()
		MOVL(U32(0xffffffff), t.As32())
		m32 = ZMM()
		VPBROADCASTQ(t, m32)
	case k == sumF:
		VMOVUPD(Mem{Base: acc}, a[0])
		VMOVUPD(Mem{Base: acc, Disp: 64}, a[1])
	default:
		VMOVDQU64(Mem{Base: acc}, a[0])
		VMOVDQA64(a[0], a[1])
		if k.isFloatKey() {
			t := GP64()
			MOVQ(U64(0x7fffffffffffffff), t)
			maxv = ZMM()
			VPBROADCASTQ(t, maxv)
		}
	}

	vec := func(off int, j int, mask Op) {
		src := Mem{Base: p, Disp: off}
		withMask := func(ops ...Op) []Op {
			if mask == nil {
				return ops
			}
			return append(append(ops[:len(ops)-1:len(ops)-1], mask), ops[len(ops)-1])
		}
		switch {
		case k == sumI:
			x, lo := ZMM(), ZMM()
			VMOVDQU64(src, x)
			VPANDQ(m32, x, lo)
			VPSRAQ(U8(32), x, x)
			VPADDQ(withMask(lo, a[0], a[0])...)
			VPADDQ(withMask(x, a[1], a[1])...)
		case k == sumF:
			VADDPD(withMask(src, a[j], a[j])...)
		case k == minI:
			VPMINSQ(withMask(src, a[j], a[j])...)
		case k == maxI:
			VPMAXSQ(withMask(src, a[j], a[j])...)
		default:
			x, key := ZMM(), ZMM()
			nan := K()
			VMOVDQU64(src, x)
			VPSRAQ(U8(63), x, key)
			VPSRLQ(U8(1), key, key)
			VPXORQ(x, key, key)
			VCMPPD(U8(3), x, x, nan) // unordered: NaN lanes
			VMOVDQA64(maxv, nan, key)
			if k.isMax() {
				VPMAXSQ(withMask(key, a[j], a[j])...)
			} else {
				VPMINSQ(withMask(key, a[j], a[j])...)
			}
		}
	}

	if !masked {
		Label("loop")
		CMPQ(n, U8(32))
		JB(LabelRef("done"))
		for v := 0; v < 4; v++ {
			vec(64*v, v%2, nil)
		}
		ADDQ(U32(256), p)
		SUBQ(U8(32), n)
		JMP(LabelRef("loop"))
	} else {
		w, t := GP64(), GP64()
		km := K()
		Label("loop")
		CMPQ(n, U8(64))
		JB(LabelRef("done"))
		validityWord(bm, w, t, "aligned")
		KMOVQ(w, km)
		for v := 0; v < 8; v++ {
			vec(64*v, v%2, km)
			if v < 7 {
				KSHIFTRQ(U8(8), km, km)
			}
		}
		ADDQ(U32(512), p)
		ADDQ(U8(8), bm)
		SUBQ(U8(64), n)
		JMP(LabelRef("loop"))
	}

	Label("done")
	switch {
	case k == sumI:
		VMOVDQU64(a[0], Mem{Base: acc})
		VMOVDQU64(a[1], Mem{Base: acc, Disp: 64})
	case k == sumF:
		VMOVUPD(a[0], Mem{Base: acc})
		VMOVUPD(a[1], Mem{Base: acc, Disp: 64})
	case k.isMax():
		VPMAXSQ(a[1], a[0], a[0])
		VMOVDQU64(a[0], Mem{Base: acc})
	default:
		VPMINSQ(a[1], a[0], a[0])
		VMOVDQU64(a[0], Mem{Base: acc})
	}
	VZEROUPPER()
	RET()
}

// ---------------------------------------------------------------------------
// AVX2

func gen256(k kind, masked bool) {
	name := fnName(k, masked, "AVX2")
	TEXT(name, NOSPLIT, k.signature(masked))
	Pragma("noescape")
	doc := fmt.Sprintf("%s folds n values at p into acc with AVX2 (n a multiple of 16).", name)
	if masked {
		doc = fmt.Sprintf("%s folds the valid ones of n values at p (validity from bit shift of *bm) into acc with AVX2 (n a multiple of 64).", name)
	}
	Doc(doc)

	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	var bm GPVirtual
	if masked {
		bm = GP64()
		Load(Param("bm"), bm)
		Load(Param("shift"), RCX)
	}

	zero := YMM()
	VPXOR(zero, zero, zero)
	var a []VecVirtual
	var m32, maxv, ident, negz, cs VecVirtual
	switch {
	case k == sumI:
		// a[0] = lo, a[1] = Σ(v>>>32) unsigned, a[2] = -(number of negatives).
		a = []VecVirtual{YMM(), YMM(), YMM()}
		VMOVDQU(Mem{Base: acc}, a[0])
		VPXOR(a[1], a[1], a[1])
		VPXOR(a[2], a[2], a[2])
		m32 = YMM()
		VPCMPEQQ(m32, m32, m32)
		VPSRLQ(U8(32), m32, m32)
	case k == sumF:
		a = []VecVirtual{YMM(), YMM(), YMM(), YMM()}
		for j := range a {
			VMOVUPD(Mem{Base: acc, Disp: 32 * j}, a[j])
		}
		if masked {
			negz = broadcast256(0x8000000000000000)
		}
	default:
		a = []VecVirtual{YMM(), YMM()}
		VMOVDQU(Mem{Base: acc}, a[0])
		VMOVDQA(a[0], a[1])
		if k.isFloatKey() {
			maxv = broadcast256(0x7fffffffffffffff)
		}
		if masked {
			if k.isMax() {
				ident = broadcast256(0x8000000000000000)
			} else {
				ident = broadcast256(0x7fffffffffffffff)
			}
		}
	}
	if masked {
		// cs = [63, 62, 61, 60]: VPSLLVQ by cs moves bits 0..3 of the
		// validity word to the lanes' sign bits (what VBLENDVPD reads).
		cs = YMM()
		VMOVDQU(bitShift4, cs)
	}

	// vec folds the 4 values at off into accumulator j; m (non-nil) holds
	// the validity in its lanes' sign bits.
	vec := func(off int, j int, m VecVirtual) {
		src := Mem{Base: p, Disp: off}
		switch {
		case k == sumI:
			x, t := YMM(), YMM()
			if m != nil {
				VBLENDVPD(m, src, zero, x)
			} else {
				VMOVDQU(src, x)
			}
			VPAND(m32, x, t)
			VPADDQ(t, a[0], a[0])
			VPSRLQ(U8(32), x, t)
			VPADDQ(t, a[1], a[1])
			VPCMPGTQ(x, zero, t) // 0 > x
			VPADDQ(t, a[2], a[2])
		case k == sumF:
			if m != nil {
				x := YMM()
				VBLENDVPD(m, src, negz, x)
				VADDPD(x, a[j], a[j])
			} else {
				VADDPD(src, a[j], a[j])
			}
		default:
			x := YMM()
			if k.isFloatKey() {
				raw, s := YMM(), YMM()
				VMOVUPD(src, raw)
				VPCMPGTQ(raw, zero, s) // sign
				VPSRLQ(U8(1), s, s)
				VPXOR(raw, s, x)
				VCMPPD(U8(3), raw, raw, s) // unordered: NaN lanes
				VBLENDVPD(s, maxv, x, x)
			} else {
				VMOVDQU(src, x)
			}
			if m != nil {
				VBLENDVPD(m, x, ident, x)
			}
			c := YMM()
			if k.isMax() {
				VPCMPGTQ(a[j], x, c) // x > a
			} else {
				VPCMPGTQ(x, a[j], c) // a > x
			}
			VBLENDVPD(c, x, a[j], a[j])
		}
	}

	if !masked {
		Label("loop")
		CMPQ(n, U8(16))
		JB(LabelRef("done"))
		for v := 0; v < 4; v++ {
			vec(32*v, v%len(a), nil)
		}
		ADDQ(U8(128), p)
		SUBQ(U8(16), n)
		JMP(LabelRef("loop"))
	} else {
		w, t := GP64(), GP64()
		wv := YMM()
		Label("loop")
		CMPQ(n, U8(64))
		JB(LabelRef("done"))
		validityWord(bm, w, t, "aligned")
		VMOVQ(w, wv.AsX())
		VPBROADCASTQ(wv.AsX(), wv)
		for v := 0; v < 16; v++ {
			m := YMM()
			VPSLLVQ(cs, wv, m)
			if v < 15 {
				VPSRLQ(U8(4), wv, wv)
			}
			vec(32*v, v%len(a), m)
		}
		ADDQ(U32(512), p)
		ADDQ(U8(8), bm)
		SUBQ(U8(64), n)
		JMP(LabelRef("loop"))
	}

	Label("done")
	switch {
	case k == sumI:
		VMOVDQU(a[0], Mem{Base: acc})
		VPSLLQ(U8(32), a[2], a[2])
		VPADDQ(a[2], a[1], a[1])
		VPADDQ(Mem{Base: acc, Disp: 64}, a[1], a[1])
		VMOVDQU(a[1], Mem{Base: acc, Disp: 64})
	case k == sumF:
		for j := range a {
			VMOVUPD(a[j], Mem{Base: acc, Disp: 32 * j})
		}
	default:
		c := YMM()
		if k.isMax() {
			VPCMPGTQ(a[0], a[1], c) // a1 > a0
		} else {
			VPCMPGTQ(a[1], a[0], c) // a0 > a1
		}
		VBLENDVPD(c, a[1], a[0], a[0])
		VMOVDQU(a[0], Mem{Base: acc})
	}
	VZEROUPPER()
	RET()
}

// broadcast256 returns a YMM register holding v in every lane.
func broadcast256(v uint64) VecVirtual {
	t := GP64()
	MOVQ(U64(v), t)
	y := YMM()
	VMOVQ(t, y.AsX())
	VPBROADCASTQ(y.AsX(), y)
	return y
}

// stableHeader makes the "Code generated by" line independent of where the
// output goes (make gen-check writes into a temporary directory): it parses
// avo's flags first, so the files written are the requested ones, and then
// rewrites the -out and -stubs values that avo echoes into the header to
// their committed ../<name> form.
func stableHeader() {
	flag.Parse()
	for i := 1; i < len(os.Args); i++ {
		a := strings.TrimLeft(os.Args[i], "-")
		switch {
		case (a == "out" || a == "stubs") && i+1 < len(os.Args):
			i++
			os.Args[i] = "../" + filepath.Base(os.Args[i])
		case strings.HasPrefix(a, "out=") || strings.HasPrefix(a, "stubs="):
			k, v, _ := strings.Cut(a, "=")
			os.Args[i] = "-" + k + "=../" + filepath.Base(v)
		}
	}
}
