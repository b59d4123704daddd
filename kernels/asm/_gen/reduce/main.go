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

// mode is how a routine reads its rows.
type mode int

const (
	dense        mode = iota // n consecutive values
	masked                   // n consecutive values with a validity bitmap
	gather                   // the values at n selection-vector indices
	gatherMasked             // the same, with a validity bitmap (AVX-512 only)
)

var modes = []mode{dense, masked, gather}

func (k kind) name() string {
	return [...]string{"SumInt64", "SumFloat64", "MinInt64", "MaxInt64", "MinFloat64", "MaxFloat64"}[k]
}

func (k kind) isFloatKey() bool { return k == minF || k == maxF }
func (k kind) isMax() bool      { return k == maxI || k == maxF }
func (k kind) isMinMax() bool   { return k >= minI }

func (k kind) signature(m mode) string {
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
	switch m {
	case masked:
		return fmt.Sprintf("func(p *%s, n int, bm *byte, shift uint, acc %s)", elem, acc)
	case gather:
		return fmt.Sprintf("func(p *%s, nvals int, sel *int32, n int, acc %s) (done int)", elem, acc)
	case gatherMasked:
		return fmt.Sprintf("func(p *%s, nvals int, sel *int32, n int, bm *byte, off int, acc %s) (done int, valid int)", elem, acc)
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
		for _, m := range append(modes, gatherMasked) {
			gen512(k, m)
		}
	}
	for _, k := range kinds {
		for _, m := range modes {
			gen256(k, m)
		}
	}
	Generate()
}

func fnName(k kind, m mode, isa string) string {
	return k.name() + [...]string{"", "Masked", "Sel", "SelMasked"}[m] + isa
}

// docFor returns the routine's doc comment.
func docFor(name string, m mode, isa string, blk int) string {
	switch m {
	case masked:
		return fmt.Sprintf("%s folds the valid ones of n values at p (validity from bit shift of *bm) into acc with %s (n a multiple of 64).", name, isa)
	case gather:
		return fmt.Sprintf("%s folds p[sel[0]], …, p[sel[n-1]] into acc with %s gathers (n a multiple of 16); it stops before the first block of 16 with an index outside [0, nvals) and returns the number of indices done (nvals must be <= MaxInt32).", name, isa)
	case gatherMasked:
		return fmt.Sprintf("%s folds the valid ones (bit off+sel[j] of *bm set) of p[sel[0]], …, p[sel[n-1]] into acc with %s gathers (n a multiple of 16); it stops before the first block of 16 with an index outside [0, nvals) and returns the number of indices done and how many of them were valid (nvals must be <= MaxInt32).", name, isa)
	}
	return fmt.Sprintf("%s folds n values at p into acc with %s (n a multiple of %d).", name, isa, blk)
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

func gen512(k kind, m mode) {
	name := fnName(k, m, "AVX512")
	TEXT(name, NOSPLIT, k.signature(m))
	Pragma("noescape")
	Doc(docFor(name, m, "AVX-512", 32))

	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	var bm, sel, i GPVirtual
	var lim VecVirtual
	switch m {
	case masked:
		bm = GP64()
		Load(Param("bm"), bm)
		Load(Param("shift"), RCX)
	case gather, gatherMasked:
		sel, i = GP64(), GP64()
		Load(Param("sel"), sel)
		XORQ(i, i)
		nv := GP64()
		Load(Param("nvals"), nv)
		lim = ZMM()
		VPBROADCASTD(nv.As32(), lim)
	}
	var off, cnt GPVirtual
	if m == gatherMasked {
		bm, off, cnt = GP64(), GP64(), GP64()
		Load(Param("bm"), bm)
		Load(Param("off"), off)
		XORQ(cnt, cnt)
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

	vec := func(src Op, j int, mask Op) {
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

	switch m {
	case dense:
		Label("loop")
		CMPQ(n, U8(32))
		JB(LabelRef("done"))
		for v := 0; v < 4; v++ {
			vec(Mem{Base: p, Disp: 64 * v}, v%2, nil)
		}
		ADDQ(U32(256), p)
		SUBQ(U8(32), n)
		JMP(LabelRef("loop"))
	case gather, gatherMasked:
		// 16 indices per iteration, checked (unsigned, so negative ones
		// fail too) before any is used; two 8-lane gathers. With a bitmap,
		// the 16 rows' bits are looked up one by one (scalar: a gather of
		// bitmap words could read past the bitmap's end) into a 16-bit mask.
		Label("loop")
		t := GP64()
		LEAQ(Mem{Base: i, Disp: 16}, t)
		CMPQ(t, n)
		JA(LabelRef("done"))
		idx, hi := ZMM(), ZMM()
		VMOVDQU32(Mem{Base: sel, Index: i, Scale: 4}, idx)
		kb := K()
		VPCMPUD(U8(5), lim, idx, kb) // idx >= nvals
		KORTESTW(kb, kb)
		JNZ(LabelRef("done"))
		var kv [2]Op
		if m == gatherMasked {
			mask := GP64()
			XORL(mask.As32(), mask.As32())
			for j := 15; j >= 0; j-- {
				r, c := GP64(), GP64()
				MOVLQSX(Mem{Base: sel, Index: i, Scale: 4, Disp: 4 * j}, r)
				ADDQ(off, r)
				MOVL(r.As32(), c.As32())
				ANDL(U32(7), c.As32())
				SHRQ(U8(3), r)
				MOVBLZX(Mem{Base: bm, Index: r, Scale: 1}, r.As32())
				SHRXL(c.As32(), r.As32(), r.As32())
				ANDL(U32(1), r.As32())
				LEAQ(Mem{Base: r, Index: mask, Scale: 2}, mask) // mask = mask<<1 | bit
			}
			k0, k1 := K(), K()
			KMOVW(mask.As32(), k0)
			KSHIFTRW(U8(8), k0, k1)
			kv = [2]Op{k0, k1}
			POPCNTL(mask.As32(), mask.As32())
			ADDQ(mask, cnt)
		}
		VEXTRACTI64X4(U8(1), idx, hi.AsY())
		for v, ix := range []VecVirtual{idx, hi} {
			x := ZMM()
			kg := K()
			KXNORB(kg, kg, kg)
			VPXORQ(x, x, x)
			src := Mem{Base: p, Index: ix.AsY(), Scale: 8}
			if k == sumF || k.isFloatKey() {
				VGATHERDPD(src, kg, x)
			} else {
				VPGATHERDQ(src, kg, x)
			}
			vec(x, v, kv[v])
		}
		ADDQ(U8(16), i)
		JMP(LabelRef("loop"))
	default:
		w, t := GP64(), GP64()
		km := K()
		Label("loop")
		CMPQ(n, U8(64))
		JB(LabelRef("done"))
		validityWord(bm, w, t, "aligned")
		KMOVQ(w, km)
		for v := 0; v < 8; v++ {
			vec(Mem{Base: p, Disp: 64 * v}, v%2, km)
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
	if m == gather || m == gatherMasked {
		Store(i, ReturnIndex(0))
	}
	if m == gatherMasked {
		Store(cnt, ReturnIndex(1))
	}
	VZEROUPPER()
	RET()
}

// ---------------------------------------------------------------------------
// AVX2

func gen256(k kind, m mode) {
	name := fnName(k, m, "AVX2")
	TEXT(name, NOSPLIT, k.signature(m))
	Pragma("noescape")
	Doc(docFor(name, m, "AVX2", 16))

	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	var bm, sel, i GPVirtual
	var lim1 VecVirtual
	switch m {
	case masked:
		bm = GP64()
		Load(Param("bm"), bm)
		Load(Param("shift"), RCX)
	case gather:
		sel, i = GP64(), GP64()
		Load(Param("sel"), sel)
		XORQ(i, i)
		nv := GP64()
		Load(Param("nvals"), nv)
		DECQ(nv) // an index is valid when min(idx, nvals-1) == idx (unsigned)
		lim1 = YMM()
		VMOVD(nv.As32(), lim1.AsX())
		VPBROADCASTD(lim1.AsX(), lim1)
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
		if m == masked {
			negz = broadcast256(0x8000000000000000)
		}
	default:
		a = []VecVirtual{YMM(), YMM()}
		VMOVDQU(Mem{Base: acc}, a[0])
		VMOVDQA(a[0], a[1])
		if k.isFloatKey() {
			maxv = broadcast256(0x7fffffffffffffff)
		}
		if m == masked {
			if k.isMax() {
				ident = broadcast256(0x8000000000000000)
			} else {
				ident = broadcast256(0x7fffffffffffffff)
			}
		}
	}
	if m == masked {
		// cs = [63, 62, 61, 60]: VPSLLVQ by cs moves bits 0..3 of the
		// validity word to the lanes' sign bits (what VBLENDVPD reads).
		cs = YMM()
		VMOVDQU(bitShift4, cs)
	}

	// vec folds the 4 values at off into accumulator j; m (non-nil) holds
	// the validity in its lanes' sign bits.
	vec := func(src Op, j int, m VecVirtual) {
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

	switch m {
	case dense:
		Label("loop")
		CMPQ(n, U8(16))
		JB(LabelRef("done"))
		for v := 0; v < 4; v++ {
			vec(Mem{Base: p, Disp: 32 * v}, v%len(a), nil)
		}
		ADDQ(U8(128), p)
		SUBQ(U8(16), n)
		JMP(LabelRef("loop"))
	case gather:
		// 16 indices per iteration, all checked before any is used; four
		// 4-lane gathers.
		Label("loop")
		t := GP64()
		LEAQ(Mem{Base: i, Disp: 16}, t)
		CMPQ(t, n)
		JA(LabelRef("done"))
		id0, id1, c0, c1 := YMM(), YMM(), YMM(), YMM()
		VMOVDQU(Mem{Base: sel, Index: i, Scale: 4}, id0)
		VMOVDQU(Mem{Base: sel, Index: i, Scale: 4, Disp: 32}, id1)
		VPMINUD(lim1, id0, c0)
		VPCMPEQD(id0, c0, c0)
		VPMINUD(lim1, id1, c1)
		VPCMPEQD(id1, c1, c1)
		VPAND(c0, c1, c0)
		VPMOVMSKB(c0, t.As32())
		CMPL(t.As32(), U32(0xffffffff))
		JNE(LabelRef("done"))
		ixs := []VecVirtual{id0, YMM(), id1, YMM()}
		VEXTRACTI128(U8(1), id0, ixs[1].AsX())
		VEXTRACTI128(U8(1), id1, ixs[3].AsX())
		for v, ix := range ixs {
			x, gm := YMM(), YMM()
			VPCMPEQQ(gm, gm, gm)
			VPXOR(x, x, x)
			src := Mem{Base: p, Index: ix.AsX(), Scale: 8}
			if k == sumF || k.isFloatKey() {
				VGATHERDPD(gm, src, x)
			} else {
				VPGATHERDQ(gm, src, x)
			}
			vec(x, v%len(a), nil)
		}
		ADDQ(U8(16), i)
		JMP(LabelRef("loop"))
	default:
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
			vec(Mem{Base: p, Disp: 32 * v}, v%len(a), m)
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
	if m == gather {
		Store(i, ReturnIndex(0))
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
