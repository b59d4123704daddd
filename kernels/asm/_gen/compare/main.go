// Command compare generates kernels/asm/compare_amd64.s: the AVX2 and AVX-512
// comparison kernels (= <> < <= > >=) of int64, int32, float64 and float32
// columns against a broadcast scalar or against a second column, writing an
// LSB-first bitmap.
//
// Every routine processes nb whole output bytes (8*nb rows); the caller in
// package kernels finishes the last partial byte in Go. The operator is a
// run-time argument (0..5 in the order of kernels.Op: Eq, Ne, Lt, Le, Gt,
// Ge); each routine branches once to a loop specialised for that operator.
//
// Float scalar routines require a non-NaN scalar (package kernels rewrites a
// NaN scalar into an equivalent comparison against +Inf or a constant
// result), so one ordered/unordered predicate implements each operator:
//
//	x = s: EQ_OQ   x <> s: NEQ_UQ   x < s: LT_OQ   x <= s: LE_OQ
//	x > s: NLE_UQ (true for NaN x)   x >= s: NLT_UQ (true for NaN x)
//
// Float column routines follow the same total order (NaN = NaN, NaN above
// every number, -0 = 0) with fix-ups:
//
//	x = y : EQ_OQ(x,y) OR (isnan(x) AND isnan(y))    x <> y: NOT (x = y)
//	x < y : NGE_UQ(x,y) AND NOT isnan(x)             x >= y: NOT (x < y)
//	x > y : NLE_UQ(x,y) AND NOT isnan(y)             x <= y: NOT (x > y)
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

type elem struct {
	name  string // Int64 ...
	gotyp string // int64 ...
	size  int    // bytes
	float bool
}

var elems = []elem{
	{"Int64", "int64", 8, false},
	{"Int32", "int32", 4, false},
	{"Float64", "float64", 8, true},
	{"Float32", "float32", 4, true},
}

// Operators in the order of kernels.Op.
const (
	opEq = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var opNames = []string{"eq", "ne", "lt", "le", "gt", "ge"}

// VCMPPS/VCMPPD predicates.
const (
	cmpEQOQ  = 0x00
	cmpUNORD = 0x03
	cmpNEQUQ = 0x04
	cmpORD   = 0x07
	cmpNLEUQ = 0x16
	cmpNGEUQ = 0x19
	cmpNGTUQ = 0x1a
	cmpGEOQ  = 0x1d
	cmpGTOQ  = 0x1e
)

// VPCMP[DQ] predicates.
const (
	icmpEQ  = 0
	icmpLT  = 1
	icmpLE  = 2
	icmpNE  = 4
	icmpNLT = 5
	icmpNLE = 6
)

func main() {
	stableHeader()
	ConstraintExpr("!purego")
	for _, e := range elems {
		for _, scalar := range []bool{true, false} {
			gen(e, scalar, true)
			gen(e, scalar, false)
		}
	}
	Generate()
}

type fn struct {
	e      elem
	scalar bool
	avx512 bool
	dst    GPVirtual
	a, b   GPVirtual
	sv     VecVirtual // broadcast scalar (full width: Z for AVX-512, Y for AVX2)
}

func gen(e elem, scalar, avx512 bool) {
	isa := "AVX2"
	if avx512 {
		isa = "AVX512"
	}
	shape := "Col"
	sig := fmt.Sprintf("func(dst *byte, a *%s, b *%s, nb int, op int)", e.gotyp, e.gotyp)
	if scalar {
		shape = "Scalar"
		sig = fmt.Sprintf("func(dst *byte, a *%s, nb int, s %s, op int)", e.gotyp, e.gotyp)
	}
	name := "Cmp" + shape + e.name + isa
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	if scalar {
		Doc(fmt.Sprintf("%s sets bit i of dst to (a[i] op s) for the first 8*nb rows (%s).", name, isa),
			"op is 0..5 for = <> < <= > >=; a float s must not be NaN.")
	} else {
		Doc(fmt.Sprintf("%s sets bit i of dst to (a[i] op b[i]) for the first 8*nb rows (%s).", name, isa),
			"op is 0..5 for = <> < <= > >=; floats order NaN above every number and equal to itself.")
	}
	f := &fn{e: e, scalar: scalar, avx512: avx512}
	f.dst = GP64()
	Load(Param("dst"), f.dst)
	f.a = GP64()
	Load(Param("a"), f.a)
	if !scalar {
		f.b = GP64()
		Load(Param("b"), f.b)
	}
	nb := GP64()
	Load(Param("nb"), nb)
	op := Load(Param("op"), GP64())
	if scalar {
		f.broadcastScalar()
	}
	for k := range opNames {
		CMPQ(op, Imm(uint64(k)))
		JEQ(LabelRef(opNames[k] + "_loop4"))
	}
	JMP(LabelRef("done"))
	for k := range opNames {
		f.loops(k, nb)
	}
	Label("done")
	VZEROUPPER()
	RET()
}

func (f *fn) broadcastScalar() {
	if f.avx512 {
		f.sv = ZMM()
	} else {
		f.sv = YMM()
	}
	switch f.e.gotyp {
	case "int64":
		r := Load(Param("s"), GP64())
		x := XMM()
		MOVQ(r, x)
		VPBROADCASTQ(x, f.sv)
	case "int32":
		r := Load(Param("s"), GP32())
		x := XMM()
		MOVD(r, x)
		VPBROADCASTD(x, f.sv)
	case "float64":
		x := Load(Param("s"), XMM())
		VBROADCASTSD(x, f.sv)
	case "float32":
		x := Load(Param("s"), XMM())
		VBROADCASTSS(x, f.sv)
	}
}

// loops emits the 32-rows-per-iteration main loop and the 8-row tail loop
// of one operator.
func (f *fn) loops(op int, nb GPVirtual) {
	n := opNames[op]
	Label(n + "_loop4")
	CMPQ(nb, Imm(4))
	JB(LabelRef(n + "_loop1"))
	if f.avx512 {
		f.block512(op)
	} else {
		for r := 0; r < 32; r += 8 {
			f.unit(op, r)
		}
	}
	f.advance(32)
	SUBQ(Imm(4), nb)
	JMP(LabelRef(n + "_loop4"))

	Label(n + "_loop1")
	TESTQ(nb, nb)
	JZ(LabelRef("done"))
	f.unit(op, 0)
	f.advance(8)
	DECQ(nb)
	JMP(LabelRef(n + "_loop1"))
}

func (f *fn) advance(rows int) {
	ADDQ(U32(rows*f.e.size), f.a)
	if !f.scalar {
		ADDQ(U32(rows*f.e.size), f.b)
	}
	ADDQ(U8(rows/8), f.dst)
}

// unit compares the 8 rows starting at row off and stores one byte.
func (f *fn) unit(op int, off int) {
	if f.avx512 {
		f.unit512(op, off, 8)
		return
	}
	f.unit2(op, off)
}

func (f *fn) vec(bytes int) VecVirtual {
	if bytes == 64 {
		return ZMM()
	}
	return YMM()
}

func (f *fn) scalarOf(bytes int) Op {
	if bytes == 64 {
		return f.sv
	}
	return f.sv.AsY()
}

// load moves `rows` elements at row off of p into a new vector register.
func (f *fn) load(p GPVirtual, off, rows int) VecVirtual {
	bytes := rows * f.e.size
	v := f.vec(bytes)
	m := Mem{Base: p, Disp: off * f.e.size}
	switch {
	case f.e.float && f.e.size == 8:
		VMOVUPD(m, v)
	case f.e.float:
		VMOVUPS(m, v)
	case f.avx512 && f.e.size == 8:
		VMOVDQU64(m, v)
	case f.avx512:
		VMOVDQU32(m, v)
	default:
		VMOVDQU(m, v)
	}
	return v
}

func (f *fn) mem(p GPVirtual, off int) Mem { return Mem{Base: p, Disp: off * f.e.size} }

// fcmpK emits VCMPP[SD] into a k register (optionally masked): dst = (x pred y).
func (f *fn) fcmpK(pred int, y, x Op, mask Op) VecOrK {
	k := K()
	if f.e.size == 8 {
		if mask != nil {
			VCMPPD(U8(pred), y, x, mask, k)
		} else {
			VCMPPD(U8(pred), y, x, k)
		}
	} else {
		if mask != nil {
			VCMPPS(U8(pred), y, x, mask, k)
		} else {
			VCMPPS(U8(pred), y, x, k)
		}
	}
	return k
}

// VecOrK is a k register result.
type VecOrK = Register

func (f *fn) icmpK(pred int, y, x Op) Register {
	k := K()
	if f.e.size == 8 {
		VPCMPQ(U8(pred), y, x, k)
	} else {
		VPCMPD(U8(pred), y, x, k)
	}
	return k
}

// block512 compares 32 rows: the k masks move to general registers and
// leave as one 32-bit store (measured faster on Zen 4 than a KMOV to memory
// per mask).
func (f *fn) block512(op int) {
	rows := 64 / f.e.size
	acc := GP32()
	for off := 0; off < 32; off += rows {
		k, not := f.mask512(op, off, rows)
		r := acc
		if off > 0 {
			r = GP32()
		}
		if rows == 8 {
			KMOVB(k, r)
			if not {
				XORL(U32(0xff), r)
			}
		} else {
			KMOVW(k, r)
			if not {
				XORL(U32(0xffff), r)
			}
		}
		if off > 0 {
			SHLL(U8(off), r)
			ORL(r, acc)
		}
	}
	MOVL(acc, Mem{Base: f.dst})
}

// unit512 compares the 8 rows at row off into a k register and stores it.
func (f *fn) unit512(op, off, rows int) {
	k, not := f.mask512(op, off, rows)
	if not {
		KNOTB(k, k)
	}
	KMOVB(k, Mem{Base: f.dst, Disp: off / 8})
}

// mask512 compares `rows` rows (8 or 16) at row off into a k register; not
// reports that the mask must be inverted.
func (f *fn) mask512(op, off, rows int) (Register, bool) {
	bytes := rows * f.e.size
	var k Register
	not := false
	switch {
	case f.scalar && !f.e.float:
		// (s pred x) == (x op s)
		pred := []int{icmpEQ, icmpNE, icmpNLE, icmpNLT, icmpLT, icmpLE}[op]
		k = f.icmpK(pred, f.mem(f.a, off), f.scalarOf(bytes))
	case f.scalar:
		pred := []int{cmpEQOQ, cmpNEQUQ, cmpGTOQ, cmpGEOQ, cmpNGEUQ, cmpNGTUQ}[op]
		k = f.fcmpK(pred, f.mem(f.a, off), f.scalarOf(bytes), nil)
	case !f.e.float:
		pred := []int{icmpEQ, icmpNE, icmpLT, icmpLE, icmpNLE, icmpNLT}[op]
		x := f.load(f.a, off, rows)
		k = f.icmpK(pred, f.mem(f.b, off), x)
	default:
		x := f.load(f.a, off, rows)
		y := f.load(f.b, off, rows)
		switch op {
		case opEq, opNe:
			nx := f.fcmpK(cmpUNORD, x, x, nil)
			both := f.fcmpK(cmpUNORD, y, y, nx)
			eq := f.fcmpK(cmpEQOQ, y, x, nil)
			k = K()
			f.kor(both, eq, k, rows)
			not = op == opNe
		case opLt, opGe:
			ox := f.fcmpK(cmpORD, x, x, nil)
			k = f.fcmpK(cmpNGEUQ, y, x, ox)
			not = op == opGe
		case opGt, opLe:
			oy := f.fcmpK(cmpORD, y, y, nil)
			k = f.fcmpK(cmpNLEUQ, y, x, oy)
			not = op == opLe
		}
	}
	return k, not
}

func (f *fn) kor(a, b, dst Register, rows int) {
	if rows == 8 {
		KORB(a, b, dst)
	} else {
		KORW(a, b, dst)
	}
}

// unit2 compares the 8 rows at row off with AVX2 and stores one byte.
func (f *fn) unit2(op, off int) {
	e := f.e
	not := false
	// vector results, each covering 32 bytes of input
	halves := 1
	if e.size == 8 {
		halves = 2
	}
	var res []VecVirtual
	for h := 0; h < halves; h++ {
		o := off + h*(32/e.size)
		lanes := 32 / e.size
		var r VecVirtual
		switch {
		case !e.float:
			// x in a, y = s or b
			loadY := func() VecVirtual {
				if f.scalar {
					return f.sv
				}
				return f.load(f.b, o, lanes)
			}
			memY := func() Op {
				if f.scalar {
					return f.sv
				}
				return f.mem(f.b, o)
			}
			r = YMM()
			switch op {
			case opEq, opNe:
				x := f.load(f.a, o, lanes)
				f.pcmpeq(memY(), x, r)
				not = op == opNe
			case opLt, opGe: // x < y == y > x
				yv := loadY()
				f.pcmpgt(f.mem(f.a, o), yv, r)
				not = op == opGe
			case opGt, opLe: // x > y
				x := f.load(f.a, o, lanes)
				f.pcmpgt(memY(), x, r)
				not = op == opLe
			}
		case f.scalar:
			pred := []int{cmpEQOQ, cmpNEQUQ, cmpGTOQ, cmpGEOQ, cmpNGEUQ, cmpNGTUQ}[op]
			r = YMM()
			f.fcmpV(pred, f.mem(f.a, o), f.sv, r)
		default:
			x := f.load(f.a, o, lanes)
			y := f.load(f.b, o, lanes)
			r = YMM()
			t := YMM()
			switch op {
			case opEq, opNe:
				f.fcmpV(cmpUNORD, x, x, r)
				f.fcmpV(cmpUNORD, y, y, t)
				VANDPD(t, r, r)
				f.fcmpV(cmpEQOQ, y, x, t)
				VORPD(t, r, r)
				not = op == opNe
			case opLt, opGe:
				f.fcmpV(cmpORD, x, x, r)
				f.fcmpV(cmpNGEUQ, y, x, t)
				VANDPD(t, r, r)
				not = op == opGe
			case opGt, opLe:
				f.fcmpV(cmpORD, y, y, r)
				f.fcmpV(cmpNLEUQ, y, x, t)
				VANDPD(t, r, r)
				not = op == opLe
			}
		}
		res = append(res, r)
	}
	bits := GP32()
	if e.size == 8 {
		VMOVMSKPD(res[0], bits)
		hi := GP32()
		VMOVMSKPD(res[1], hi)
		SHLL(Imm(4), hi)
		ORL(hi, bits)
	} else {
		VMOVMSKPS(res[0], bits)
	}
	if not {
		XORL(Imm(0xff), bits)
	}
	MOVB(bits.As8(), Mem{Base: f.dst, Disp: off / 8})
}

func (f *fn) pcmpeq(y, x, dst Op) {
	if f.e.size == 8 {
		VPCMPEQQ(y, x, dst)
	} else {
		VPCMPEQD(y, x, dst)
	}
}

func (f *fn) pcmpgt(y, x, dst Op) {
	if f.e.size == 8 {
		VPCMPGTQ(y, x, dst)
	} else {
		VPCMPGTD(y, x, dst)
	}
}

func (f *fn) fcmpV(pred int, y, x, dst Op) {
	if f.e.size == 8 {
		VCMPPD(U8(pred), y, x, dst)
	} else {
		VCMPPS(U8(pred), y, x, dst)
	}
}

// stableHeader parses the flags (opening the output files) and then rewrites
// the -out and -stubs paths in os.Args to "../<base name>", the form `make gen`
// uses: avo copies os.Args into the "Code generated by" header, and `make
// gen-check` writes to a temporary directory, so the header must not depend
// on where the output goes.
func stableHeader() {
	flag.Parse()
	for i := 1; i+1 < len(os.Args); i++ {
		if os.Args[i] == "-out" || os.Args[i] == "-stubs" {
			os.Args[i+1] = "../" + filepath.Base(os.Args[i+1])
		}
	}
}
