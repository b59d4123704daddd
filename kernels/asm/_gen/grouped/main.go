// Command grouped generates the amd64 routines of Velo's grouped updates
// (kernels/grouped.go), row at a time: GroupedSumInt64, GroupedCountRows
// (also COUNT(x) with a bitmap), GroupedSumFloat64, GroupedMin/Max of
// int64 and float64, and the fused GroupedSumMinMaxFloat64 (without a
// bitmap: its Go caller runs the three single routines for columns with
// NULLs).
//
// They are scalar x86-64 (no vector instructions): SIMD lost to scalar code
// here (see kernels/grouped.go), but a tight scalar loop beats the Go loop by
// 1.5-3x (numbers in kernels/grouped_amd64.go): it updates the state with
// one read-modify-write instruction where it can (ADDQ reg, mem; INCQ mem),
// uses the flags instead of arithmetic for the int64 overflow, takes float
// min/max with MINSD/MAXSD and an unconditional store, and keeps every rare
// case (overflow, int min/max updates, ±0.0 and NaN, bad indices) out of
// line, so the common path of a row has no taken branch.
//
// Every routine checks each group id against the state's length (and each
// selection index against the number of rows) before using it and stops at
// the first row that fails, returning the number of candidates done; the Go
// caller then continues from that row with the Go loop, which panics with
// the index error. Candidates are rows 0..n-1, or sel[0..n-1] when sel is
// non-nil; with a non-nil bm, row r counts only when bit off+r of bm is set.
package main

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	stableHeader()
	ConstraintExpr("!purego")
	genRows("GroupedSumInt64Rows", sumInt64,
		"func(sums *int64, nsums int, groups *uint32, vals *int64, nrows int, sel *int32, n int, bm *byte, off int) (done int, overflow bool)",
		"GroupedSumInt64Rows adds the contributing vals[r] to sums[groups[r]] in candidate order and reports whether an addition overflowed.")
	genRows("GroupedCountRows", countRows,
		"func(counts *int64, ncounts int, groups *uint32, nrows int, sel *int32, n int, bm *byte, off int) (done int)",
		"GroupedCountRows adds 1 to counts[groups[r]] for every contributing candidate row r.")
	for _, m := range []struct {
		name string
		k    kernel
		elem string
		doc  string
	}{
		{"GroupedSumFloat64Rows", sumFloat64, "float64", "adds vals[r] to dst[groups[r]] in candidate order"},
		{"GroupedMinInt64Rows", minInt64, "int64", "sets dst[groups[r]] to the smaller of it and vals[r]"},
		{"GroupedMaxInt64Rows", maxInt64, "int64", "sets dst[groups[r]] to the larger of it and vals[r]"},
		{"GroupedMinFloat64Rows", minFloat64, "float64", "sets dst[groups[r]] to the smaller of it and vals[r] in the order -0.0 < +0.0, NaN above all"},
		{"GroupedMaxFloat64Rows", maxFloat64, "float64", "sets dst[groups[r]] to the larger of it and vals[r] in the order -0.0 < +0.0, NaN above all (a NaN winner stored as the canonical NaN)"},
	} {
		genRows(m.name, m.k,
			"func(dst *"+m.elem+", ndst int, groups *uint32, vals *"+m.elem+", nrows int, sel *int32, n int, bm *byte, off int) (done int)",
			m.name+" "+m.doc+", for every contributing candidate row r.")
	}
	genRows("GroupedSumMinMaxFloat64Rows", sumMinMaxFloat64,
		"func(sums *float64, mins *float64, maxs *float64, ndst int, groups *uint32, vals *float64, nrows int, sel *int32, n int) (done int)",
		"GroupedSumMinMaxFloat64Rows does what GroupedSumFloat64Rows(sums), GroupedMinFloat64Rows(mins) and GroupedMaxFloat64Rows(maxs) do, in one pass over every candidate row r (no bitmap); the three states have length ndst.")

	// A variant for states larger than the caches: each candidate also
	// prefetches the three state lines of the candidate prefetchAhead on
	// (without sel its id is already known; with sel, once its selection
	// index is checked). Measured without sel (1M rows, 100k random ids,
	// best of 5, ns/row): 5.74 without, 5.45 with; with a half-density
	// sorted selection (128 batches of 8192 rows, A/B of test binaries,
	// medians of 5, ns per selected row): 100k groups 12.3 -> 10.3, 50k
	// 8.5 -> 7.1. Single-state routines gained nothing without sel
	// (GroupedSumInt64Rows 0.82 without, 1.04 with) and have no such
	// variant.
	prefetch = true
	genRows("GroupedSumMinMaxFloat64RowsPrefetch", sumMinMaxFloat64,
		"func(sums *float64, mins *float64, maxs *float64, ndst int, groups *uint32, vals *float64, nrows int, sel *int32, n int) (done int)",
		"GroupedSumMinMaxFloat64RowsPrefetch is GroupedSumMinMaxFloat64Rows prefetching states ahead (for states larger than the caches).")
	genProbeWords()
	genProbeWordsSel()
	Generate()
}

// genProbeWords emits GroupProbeWords, the hit path of agg.KeyTable's
// single-key-word probe: linear probing over 16-byte slots {key word,
// tag<<32 | id+1}, comparing the row's key word with the slot's. It stops
// at the first row whose probe reaches an empty slot (a new group, inserted
// by the Go caller, which then resumes). Each row prefetches the home slot
// of the row probeAhead on, whose hash is already known: for a table larger
// than the caches the probes then overlap their misses instead of waiting
// for one after the other.
func genProbeWords() {
	TEXT("GroupProbeWords", NOSPLIT, "func(slots *int64, mask uint64, hs *uint64, keys *int64, groups *uint32, n int, start int) (done int)")
	Pragma("noescape")
	Doc("GroupProbeWords sets groups[j] to the group id of row j's key word keys[j] (hash hs[j]) in the 16-byte slots (mask+1 of them), for j from start while every probe finds its key before an empty slot; it returns the first row whose probe reached an empty slot, or n.")
	slots := Load(Param("slots"), GP64())
	mask := Load(Param("mask"), GP64())
	hs := Load(Param("hs"), GP64())
	keys := Load(Param("keys"), GP64())
	groups := Load(Param("groups"), GP64())
	n := Load(Param("n"), GP64())
	j := Load(Param("start"), GP64())
	const probeAhead = 16

	probe := func(lab string) {
		s, key, e := GP64(), GP64(), GP64()
		MOVQ(Mem{Base: hs, Index: j, Scale: 8}, s)
		MOVQ(Mem{Base: keys, Index: j, Scale: 8}, key)
		ANDQ(mask, s)
		Label(lab + "slot")
		t := GP64()
		MOVQ(s, t)
		SHLQ(U8(4), t)
		MOVQ(Mem{Base: slots, Index: t, Scale: 1, Disp: 8}, e)
		TESTQ(e, e)
		JZ(LabelRef("done")) // empty slot: a new group, for the Go caller
		CMPQ(key, Mem{Base: slots, Index: t, Scale: 1})
		JNE(LabelRef(lab + "next"))
		DECL(e.As32())
		MOVL(e.As32(), Mem{Base: groups, Index: j, Scale: 4})
		INCQ(j)
		JMP(LabelRef(lab))
		Label(lab + "next") // another key in the slot: linear probing
		INCQ(s)
		ANDQ(mask, s)
		JMP(LabelRef(lab + "slot"))
	}

	// Rows with a row probeAhead on: prefetch its home slot.
	Label("pf")
	t := GP64()
	LEAQ(Mem{Base: j, Disp: probeAhead}, t)
	CMPQ(t, n)
	JAE(LabelRef("tail"))
	p := GP64()
	MOVQ(Mem{Base: hs, Index: j, Scale: 8, Disp: 8 * probeAhead}, p)
	ANDQ(mask, p)
	SHLQ(U8(4), p)
	PREFETCHT0(Mem{Base: slots, Index: p, Scale: 1})
	probe("pf")

	Label("tail")
	CMPQ(j, n)
	JAE(LabelRef("done"))
	probe("tail")

	Label("done")
	Store(j, ReturnIndex(0))
	RET()
}

// genProbeWordsSel emits GroupProbeWordsSel: GroupProbeWords over the rows
// of a selection. While candidate j+probeAhead exists, each candidate first
// prefetches the home slot of that candidate's row (when its selection
// index is in range; a bad one is skipped here and stops the routine when
// its candidate comes), with one temporary register, before the probe's
// own registers are live. A selection index outside [0, nrows) stops it
// like an empty slot, for the Go caller to report.
func genProbeWordsSel() {
	TEXT("GroupProbeWordsSel", NOSPLIT, "func(slots *int64, mask uint64, hs *uint64, keys *int64, groups *uint32, nrows int, sel *int32, n int, start int) (done int)")
	Pragma("noescape")
	Doc("GroupProbeWordsSel is GroupProbeWords for candidates j of the selection sel[0..n-1] (rows sel[j] < nrows): it returns the first candidate whose probe reached an empty slot or whose row is out of range, or n.")
	slots := Load(Param("slots"), GP64())
	mask := Load(Param("mask"), GP64())
	hs := Load(Param("hs"), GP64())
	keys := Load(Param("keys"), GP64())
	groups := Load(Param("groups"), GP64())
	nrows := Load(Param("nrows"), GP64())
	sel := Load(Param("sel"), GP64())
	n := Load(Param("n"), GP64())
	j := Load(Param("start"), GP64())
	const probeAhead = 16

	probe := func(lab string) {
		r, s, key, e := GP64(), GP64(), GP64(), GP64()
		MOVLQSX(Mem{Base: sel, Index: j, Scale: 4}, r)
		CMPQ(r, nrows) // unsigned: negative indices stop too
		JAE(LabelRef("done"))
		MOVQ(Mem{Base: hs, Index: r, Scale: 8}, s)
		MOVQ(Mem{Base: keys, Index: r, Scale: 8}, key)
		ANDQ(mask, s)
		Label(lab + "slot")
		t := GP64()
		MOVQ(s, t)
		SHLQ(U8(4), t)
		MOVQ(Mem{Base: slots, Index: t, Scale: 1, Disp: 8}, e)
		TESTQ(e, e)
		JZ(LabelRef("done")) // empty slot: a new group, for the Go caller
		CMPQ(key, Mem{Base: slots, Index: t, Scale: 1})
		JNE(LabelRef(lab + "next"))
		DECL(e.As32())
		MOVL(e.As32(), Mem{Base: groups, Index: r, Scale: 4})
		INCQ(j)
		JMP(LabelRef(lab))
		Label(lab + "next") // another key in the slot: linear probing
		INCQ(s)
		ANDQ(mask, s)
		JMP(LabelRef(lab + "slot"))
	}

	// Candidates with a candidate probeAhead on: prefetch its row's home
	// slot.
	Label("pf")
	p := GP64()
	LEAQ(Mem{Base: j, Disp: probeAhead}, p)
	CMPQ(p, n)
	JAE(LabelRef("tail"))
	MOVLQSX(Mem{Base: sel, Index: j, Scale: 4, Disp: 4 * probeAhead}, p)
	CMPQ(p, nrows) // unsigned: a negative index is skipped too
	JAE(LabelRef("pfprobe"))
	MOVQ(Mem{Base: hs, Index: p, Scale: 8}, p)
	ANDQ(mask, p)
	SHLQ(U8(4), p)
	PREFETCHT0(Mem{Base: slots, Index: p, Scale: 1})
	Label("pfprobe")
	probe("pf")

	Label("tail")
	CMPQ(j, n)
	JAE(LabelRef("done"))
	probe("tail")

	Label("done")
	Store(j, ReturnIndex(0))
	RET()
}

type kernel int

const (
	sumInt64 kernel = iota
	countRows
	minInt64
	maxInt64
	minFloat64
	maxFloat64
	sumFloat64
	sumMinMaxFloat64
)

// prefetch makes genRows emit, before the dense loop, one that also
// prefetches the states of row j+prefetchAhead, and before each selection
// loop one that prefetches those of row sel[j+prefetchAhead].
var prefetch bool

const prefetchAhead = 16

// mins and maxs are the extra state pointers of sumMinMaxFloat64 (its
// sums are dst).
var mins, maxs Register

// genRows emits one routine with four loops, for sel nil / non-nil times bm
// nil / non-nil, picked once at entry.
func genRows(name string, k kernel, sig, doc string) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc, "It stops before the first candidate whose group id is >= the state's length or whose selection index is outside [0, nrows), and returns the number of candidates done.")

	dstName, ndstName := "sums", "nsums"
	switch k {
	case countRows:
		dstName, ndstName = "counts", "ncounts"
	case minInt64, maxInt64, minFloat64, maxFloat64, sumFloat64:
		dstName, ndstName = "dst", "ndst"
	case sumMinMaxFloat64:
		ndstName = "ndst"
	}
	dst := Load(Param(dstName), GP64())
	if k == sumMinMaxFloat64 {
		mins = Load(Param("mins"), GP64())
		maxs = Load(Param("maxs"), GP64())
	}
	ndst := Load(Param(ndstName), GP64())
	groups := Load(Param("groups"), GP64())
	var vals Register
	if k != countRows {
		vals = Load(Param("vals"), GP64())
	}
	nrows := Load(Param("nrows"), GP64())
	sel := Load(Param("sel"), GP64())
	n := Load(Param("n"), GP64())
	var bm, off Register
	if k != sumMinMaxFloat64 {
		bm = Load(Param("bm"), GP64())
		off = Load(Param("off"), GP64())
	}
	j := GP64()
	XORQ(j, j)
	// The overflow result is written straight into its slot (no register
	// to spare: the general loops keep 14 values live).
	var ovf Mem
	if k == sumInt64 {
		slot, err := ReturnIndex(1).Resolve()
		if err != nil {
			panic(err)
		}
		ovf = slot.Addr
		MOVB(U8(0), ovf)
	}

	if k == sumMinMaxFloat64 {
		TESTQ(sel, sel)
		JNZ(LabelRef("withsel"))
		loop(k, "plain", false, false, dst, ndst, groups, vals, nrows, sel, n, bm, off, j, ovf)
		Label("withsel")
		loop(k, "sel", true, false, dst, ndst, groups, vals, nrows, sel, n, bm, off, j, ovf)
		Label("done")
		Store(j, ReturnIndex(0))
		RET()
		return
	}
	TESTQ(sel, sel)
	JNZ(LabelRef("withsel"))
	TESTQ(bm, bm)
	JNZ(LabelRef("plainbm"))
	loop(k, "plain", false, false, dst, ndst, groups, vals, nrows, sel, n, bm, off, j, ovf)
	Label("plainbm")
	loop(k, "plainbm", false, true, dst, ndst, groups, vals, nrows, sel, n, bm, off, j, ovf)
	Label("withsel")
	TESTQ(bm, bm)
	JNZ(LabelRef("selbm"))
	loop(k, "sel", true, false, dst, ndst, groups, vals, nrows, sel, n, bm, off, j, ovf)
	Label("selbm")
	loop(k, "selbm", true, true, dst, ndst, groups, vals, nrows, sel, n, bm, off, j, ovf)

	Label("done")
	Store(j, ReturnIndex(0))
	RET()
}

// loop emits one candidate loop; it jumps to "done" when finished or at a
// failing index. Loops without a bitmap do four candidates per iteration
// (with a selection too: its loop has more instructions per row than the
// dense one, and the unrolled form keeps more rows in flight; 128 batches
// of 8192 rows, half-density sorted selections, A/B of test binaries,
// medians of 7, ns per selected row, 1k | 50k | 100k groups, unroll 1 / 4:
// GroupedCountRows 0.79/0.56 | 1.02/0.81 | 1.13/0.92, GroupedSumInt64
// 0.95/0.91 | 1.41/1.25 | 1.58/1.33, GroupedMaxFloat64 1.24/1.10 |
// 3.16/3.01 | 4.99/4.68).
func loop(k kernel, lab string, withSel, withBM bool, dst, ndst, groups, vals, nrows, sel, n, bm, off, j Register, ovf Mem) {
	unroll := 1
	if !withBM {
		unroll = 4
	}
	next := lab + "1"
	if unroll > 1 {
		next = lab + "4"
	}
	if prefetch {
		// While the candidate prefetchAhead on exists: prefetch the
		// states of its row's group. Prefetches never fault: an id beyond
		// the state is harmless here and caught when its row comes. A
		// selection index is checked before it reads groups (a bad one
		// skips the prefetch and stops the routine when its candidate
		// comes).
		Label(lab + "pf")
		p := GP64()
		LEAQ(Mem{Base: j, Disp: unroll + prefetchAhead}, p)
		CMPQ(p, n)
		JA(LabelRef(next))
		for u := 0; u < unroll; u++ {
			ahead := Mem{Base: groups, Index: j, Scale: 4, Disp: 4 * (u + prefetchAhead)}
			skip := ""
			if withSel {
				MOVLQSX(Mem{Base: sel, Index: j, Scale: 4, Disp: 4 * (u + prefetchAhead)}, p)
				CMPQ(p, nrows) // unsigned: a negative index is skipped too
				skip = "pfrow" + uniq()
				JAE(LabelRef(skip))
				ahead = Mem{Base: groups, Index: p, Scale: 4}
			}
			MOVLQZX(ahead, p)
			prefetchStates(k, dst, p)
			if withSel {
				Label(skip)
			}
			row(k, withSel, withBM, u, dst, ndst, groups, vals, nrows, sel, bm, off, j, ovf)
		}
		ADDQ(U8(unroll), j)
		JMP(LabelRef(lab + "pf"))
		flushOutOfLine()
	}
	if unroll > 1 {
		Label(lab + "4")
		t := GP64()
		LEAQ(Mem{Base: j, Disp: unroll}, t)
		CMPQ(t, n)
		JA(LabelRef(lab + "1"))
		for u := 0; u < unroll; u++ {
			row(k, withSel, withBM, u, dst, ndst, groups, vals, nrows, sel, bm, off, j, ovf)
		}
		ADDQ(U8(unroll), j)
		JMP(LabelRef(lab + "4"))
		flushOutOfLine()
	}
	Label(lab + "1")
	CMPQ(j, n)
	JAE(LabelRef("done"))
	row(k, withSel, withBM, 0, dst, ndst, groups, vals, nrows, sel, bm, off, j, ovf)
	INCQ(j)
	JMP(LabelRef(lab + "1"))
	flushOutOfLine()
}

// prefetchStates prefetches the state lines of group id g.
func prefetchStates(k kernel, dst, g Register) {
	PREFETCHT0(Mem{Base: dst, Index: g, Scale: 8})
	if k == sumMinMaxFloat64 {
		PREFETCHT0(Mem{Base: mins, Index: g, Scale: 8})
		PREFETCHT0(Mem{Base: maxs, Index: g, Scale: 8})
	}
}

// outOfLine collects the rarely-run blocks of the current loop (overflow,
// updates, ±0/NaN checks); they are emitted after the loop's closing jump,
// so the common path of a row has no taken branch.
var outOfLine []func()

func flushOutOfLine() {
	for _, f := range outOfLine {
		f()
	}
	outOfLine = nil
}

// row emits the update of candidate j+u. A failing index leaves j at the
// first candidate of the unrolled group not yet done: rows u' < u of the
// group are applied, so j is advanced by u before leaving.
func row(k kernel, withSel, withBM bool, u int, dst, ndst, groups, vals, nrows, sel, bm, off, j Register, ovf Mem) {
	r := j
	disp := u
	if withSel {
		r = GP64()
		MOVLQSX(Mem{Base: sel, Index: j, Scale: 4, Disp: 4 * u}, r)
		CMPQ(r, nrows) // unsigned: negative indices fail too
		bail(u, j)
		disp = 0
	}
	g := GP64()
	MOVLQZX(Mem{Base: groups, Index: r, Scale: 4, Disp: 4 * disp}, g)
	CMPQ(g, ndst)
	bail(u, j)
	var bit GPVirtual
	if withBM {
		// bit = bm[(off+r)>>3] >> ((off+r)&7) & 1
		b, c := GP64(), GP64()
		LEAQ(Mem{Base: off, Index: r, Scale: 1, Disp: disp}, b)
		MOVQ(b, c)
		SHRQ(U8(3), b)
		ANDL(U32(7), c.As32())
		MOVBLZX(Mem{Base: bm, Index: b, Scale: 1}, b.As32())
		SHRXL(c.As32(), b.As32(), b.As32())
		ANDL(U32(1), b.As32())
		bit = b
	}
	switch k {
	case sumInt64:
		v := GP64()
		MOVQ(Mem{Base: vals, Index: r, Scale: 8, Disp: 8 * disp}, v)
		if withBM {
			NEGQ(bit)
			ANDQ(bit, v) // null rows add 0
		}
		ADDQ(v, Mem{Base: dst, Index: g, Scale: 8})
		o, back := "ovf"+uniq(), "back"+uniq()
		JOS(LabelRef(o))
		Label(back)
		outOfLine = append(outOfLine, func() {
			Label(o)
			MOVB(U8(1), ovf)
			JMP(LabelRef(back))
		})
	case countRows:
		if withBM {
			ADDQ(bit, Mem{Base: dst, Index: g, Scale: 8})
		} else {
			INCQ(Mem{Base: dst, Index: g, Scale: 8})
		}
	case sumFloat64:
		next := "next" + uniq()
		if withBM {
			TESTL(bit.As32(), bit.As32())
			JZ(LabelRef(next)) // null row: adds nothing (not even +0.0)
		}
		x := XMM()
		MOVSD(Mem{Base: dst, Index: g, Scale: 8}, x)
		ADDSD(Mem{Base: vals, Index: r, Scale: 8, Disp: 8 * disp}, x) // dst + v, as Go's dst[g] += v
		MOVSD(x, Mem{Base: dst, Index: g, Scale: 8})
		Label(next)
	case sumMinMaxFloat64:
		// The three states of one row: their loads and stores are
		// independent, so a group hit by nearby rows waits once, not
		// three times.
		src := Mem{Base: vals, Index: r, Scale: 8, Disp: 8 * disp}
		x := XMM()
		MOVSD(Mem{Base: dst, Index: g, Scale: 8}, x)
		ADDSD(src, x)
		MOVSD(x, Mem{Base: dst, Index: g, Scale: 8})
		minMax(minFloat64, false, bit, src, Mem{Base: mins, Index: g, Scale: 8})
		minMax(maxFloat64, false, bit, src, Mem{Base: maxs, Index: g, Scale: 8})
	default:
		minMax(k, withBM, bit, Mem{Base: vals, Index: r, Scale: 8, Disp: 8 * disp}, Mem{Base: dst, Index: g, Scale: 8})
	}
}

// minMax emits the min/max update of one row: the common case (values that
// differ, no NaN) costs one compare and no taken branch (ints: when
// nothing changes; floats: always, through MINSD/MAXSD); equal values
// (±0.0) and NaNs go to an out-of-line check.
func minMax(k kernel, withBM bool, bit GPVirtual, src, d Mem) {
	next := "next" + uniq()
	if withBM {
		TESTL(bit.As32(), bit.As32())
		JZ(LabelRef(next)) // null row
	}
	upd := "upd" + uniq()
	switch k {
	case minInt64, maxInt64:
		v := GP64()
		MOVQ(src, v)
		CMPQ(v, d)
		if k == maxInt64 {
			JGT(LabelRef(upd))
		} else {
			JLT(LabelRef(upd))
		}
		Label(next)
		outOfLine = append(outOfLine, func() {
			Label(upd)
			MOVQ(v, d)
			JMP(LabelRef(next))
		})
		return
	}
	v, x := XMM(), XMM()
	MOVSD(src, v)
	MOVSD(d, x)
	rare := "rare" + uniq()
	// Values that differ and are not NaN: MAXSD/MINSD and an unconditional
	// store, no branch on which side won (an update is as likely as not
	// when a group has seen few rows); equal values (±0.0) and NaNs go out
	// of line.
	if k == maxFloat64 {
		UCOMISD(x, v)       // flags of v against d
		JEQ(LabelRef(rare)) // equal or unordered
		MAXSD(v, x)
	} else {
		UCOMISD(v, x) // flags of d against v
		JEQ(LabelRef(rare))
		MINSD(v, x)
	}
	MOVSD(x, d)
	Label(next)
	outOfLine = append(outOfLine, func() {
		Label(upd)
		MOVSD(v, d)
		JMP(LabelRef(next))

		Label(rare)
		a := GP64()
		if k == maxFloat64 {
			// v NaN and d not: store the canonical NaN. Both ±0: +0
			// replaces -0.
			vnan := "vnan" + uniq()
			UCOMISD(v, v)
			JPS(LabelRef(vnan))
			UCOMISD(x, x)
			JPS(LabelRef(next)) // d NaN: already the largest
			MOVQ(v, a)
			TESTQ(a, a)
			JNZ(LabelRef(next)) // v is not +0 (equal non-zero, or -0)
			MOVQ(x, a)
			TESTQ(a, a)
			JZ(LabelRef(next)) // d is +0 too
			JMP(LabelRef(upd))
			Label(vnan)
			UCOMISD(x, x)
			JPS(LabelRef(next)) // both NaN
			MOVQ(U64(0x7ff8000000000001), a)
			MOVQ(a, d)
			JMP(LabelRef(next))
			return
		}
		// d NaN and v not: v replaces it. Both ±0: -0 replaces +0.
		UCOMISD(v, v)
		JPS(LabelRef(next)) // v NaN: never the smallest
		UCOMISD(x, x)
		JPS(LabelRef(upd))
		MOVQ(v, a)
		TESTQ(a, a)
		JZ(LabelRef(next)) // v is +0: not below d (d == 0 too)
		MOVQ(x, a)
		TESTQ(a, a)
		JNZ(LabelRef(next)) // d is not +0
		MOVQ(v, a)
		SHLQ(U8(1), a)
		JNZ(LabelRef(next)) // v is not -0
		JMP(LabelRef(upd))
	})
}

// bail jumps out (after advancing j past the u rows already applied) when
// the preceding CMPQ found an index >= its bound.
func bail(u int, j Register) {
	if u == 0 {
		JAE(LabelRef("done"))
		return
	}
	out := "bail" + uniq()
	JAE(LabelRef(out))
	outOfLine = append(outOfLine, func() {
		Label(out)
		ADDQ(U8(u), j)
		JMP(LabelRef("done"))
	})
}

var labels int

// uniq returns a fresh label suffix.
func uniq() string {
	labels++
	return strconv.Itoa(labels)
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
