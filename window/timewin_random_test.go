package window

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
)

func TestEmitChangesGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newPusher(t, mem, Spec{Kind: Tumbling, SizeMs: 10, MaxOutOfOrdernessMs: NoOutOfOrderness, Emit: EmitChanges,
		Keys: []agg.KeySpec{{Column: 1}}, Aggs: countSum})
	defer p.release()
	require.Equal(t, []string{"a|0|10|2|5", "b|0|10|1|2"}, p.push(a(0, 1), b(1, 2), a(2, 4)))
	require.Equal(t, []string{"a|0|10|3|13"}, p.push(a(3, 8)))
	// 10 opens [10,20) and closes [0,10): nothing more to emit for it.
	require.Equal(t, []string{"b|10|20|1|16"}, p.push(b(10, 16)))
	require.Empty(t, p.finish())
	require.Equal(t, int64(2), p.w.Stats().Windows)
}

func TestGroupByNoWindow(t *testing.T) {
	for _, mode := range []EmitMode{EmitFinal, EmitChanges} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		p := newPusher(t, mem, Spec{Kind: None, Emit: mode, Keys: []agg.KeySpec{{Column: 1}}, Aggs: countSum})
		require.Equal(t, []string{"k", "n", "sq"}, fieldNames(p.w.Schema()))
		c1 := p.push(a(0, 1), b(1, 2), a(2, 4))
		rec := mkRec(mem, []trow{b(9, 8), a(9, 16), b(9, 32)})
		out, err := p.w.Push(columnar.Batch{Rec: rec, Sel: []int32{0, 2}}) // b, b
		rec.Release()
		require.NoError(t, err)
		c2 := p.keep(out)
		fin := p.finish()
		if mode == EmitChanges {
			require.Equal(t, []string{"a|2|5", "b|1|2"}, c1)
			require.Equal(t, []string{"b|3|42"}, c2)
			require.Empty(t, fin)
		} else {
			require.Empty(t, c1)
			require.Empty(t, c2)
			require.Equal(t, []string{"a|2|5", "b|3|42"}, fin)
		}
		p.release()
		mem.AssertSize(t, 0)
	}
}

// genRows returns n rows whose event times arrive out of order but within
// disorder ms of the maximum seen so far (never late with that out-of-
// orderness), with NULL keys, values and times sprinkled in. Values are
// multiples of 0.25, so float sums are exact in any order.
func genRows(rng *rand.Rand, n int, step, disorder int64, keys int) []trow {
	rows := make([]trow, n)
	base := int64(1_000)
	for i := range rows {
		base += rng.Int64N(step + 1)
		r := trow{ts: base - rng.Int64N(disorder), k: fmt.Sprintf("k%d", rng.IntN(keys)), v: float64(rng.IntN(2000)-1000) / 4, q: rng.Int64N(100)}
		r.kNull = rng.IntN(50) == 0
		if r.kNull {
			r.k = ""
		}
		r.vNull = rng.IntN(10) == 0
		r.tsNull = rng.IntN(200) == 0
		rows[i] = r
	}
	return rows
}

var fullAggs = []agg.AggSpec{
	{Func: agg.CountStar, Name: "n"}, {Func: agg.Count, Column: 2, Name: "nv"}, {Func: agg.Sum, Column: 2, Name: "sv"},
	{Func: agg.Min, Column: 2, Name: "lo"}, {Func: agg.Max, Column: 2, Name: "hi"}, {Func: agg.Avg, Column: 2, Name: "av"},
	{Func: agg.Sum, Column: 3, Name: "sq"},
}

// runStream feeds rows in batches of the given sizes and returns every
// emitted row plus the stats.
func runStream(t *testing.T, mem memory.Allocator, spec Spec, rows []trow, sizes func() int) ([]string, Stats) {
	p := newPusher(t, mem, spec)
	defer p.release()
	var out []string
	for i := 0; i < len(rows); {
		n := min(sizes(), len(rows)-i)
		out = append(out, p.push(rows[i:i+n]...)...)
		i += n
	}
	out = append(out, p.finish()...)
	return out, p.w.Stats()
}

func windowSpecs() map[string]Spec {
	keys := []agg.KeySpec{{Column: 1}}
	return map[string]Spec{
		"tumbling": {Kind: Tumbling, SizeMs: 1000, MaxOutOfOrdernessMs: 300, Keys: keys, Aggs: fullAggs},
		"sliding":  {Kind: Sliding, SizeMs: 1000, SlideMs: 250, MaxOutOfOrdernessMs: 300, Keys: keys, Aggs: fullAggs},
		"session":  {Kind: Session, GapMs: 150, MaxOutOfOrdernessMs: 300, Keys: keys, Aggs: fullAggs},
		"global":   {Kind: Tumbling, SizeMs: 700, MaxOutOfOrdernessMs: 300, Aggs: fullAggs},
	}
}

func TestBatchEqualsStream(t *testing.T) {
	n := 30_000
	if testing.Short() {
		n = 5_000
	}
	for name, spec := range windowSpecs() {
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			rows := genRows(rng, n, 12, 300, 7)
			whole, wst := runStream(t, mem, spec, rows, func() int { return len(rows) })
			require.NotEmpty(t, whole)
			require.Zero(t, wst.LateRows)
			for trial := 0; trial < 3; trial++ {
				maxB := []int{10_000, 100, 7}[trial]
				got, st := runStream(t, mem, spec, rows, func() int { return 1 + rng.IntN(maxB) })
				require.Equal(t, whole, got, "batch sizes up to %d", maxB)
				require.Zero(t, st.LateRows)
				require.Equal(t, wst.NullTime, st.NullTime)
			}
			// EMIT CHANGES: the last change of each (window, group) is its FINAL row.
			ch := spec
			ch.Emit = EmitChanges
			changes, _ := runStream(t, mem, ch, rows, func() int { return 1 + rng.IntN(500) })
			nk := len(spec.Keys)
			lastOf := map[string]string{}
			for _, r := range changes {
				f := strings.Split(r, "|")
				lastOf[strings.Join(f[:nk+2], "|")] = r
			}
			for _, r := range whole {
				f := strings.Split(r, "|")
				require.Equal(t, r, lastOf[strings.Join(f[:nk+2], "|")])
			}
			if spec.Kind != Session { // merged-away sessions leave superseded rows
				require.Len(t, lastOf, len(whole))
			}
		})
	}
}

// naiveWindows aggregates rows with plain loops: every window of every
// row, sessions as runs of sorted times less than gap apart.
func naiveWindows(spec Spec, rows []trow) []string {
	type acc struct {
		start, end, n, nv, sq int64
		key                   string
		keyNull               bool
		sv, lo, hi            float64
	}
	groups := map[string]*acc{}
	add := func(r trow, s, e int64) {
		key := r.k
		if len(spec.Keys) == 0 || r.kNull {
			key = ""
		}
		id := fmt.Sprintf("%v|%s|%d|%d", r.kNull && len(spec.Keys) > 0, key, s, e)
		g := groups[id]
		if g == nil {
			g = &acc{start: s, end: e, key: key, keyNull: r.kNull && len(spec.Keys) > 0}
			groups[id] = g
		}
		g.n++
		g.sq += r.q
		if !r.vNull {
			if g.nv == 0 || r.v < g.lo {
				g.lo = r.v
			}
			if g.nv == 0 || r.v > g.hi {
				g.hi = r.v
			}
			g.nv++
			g.sv += r.v
		}
	}
	switch spec.Kind {
	case Tumbling, Sliding:
		slide := spec.SlideMs
		if slide == 0 {
			slide = spec.SizeMs
		}
		for _, r := range rows {
			if r.tsNull {
				continue
			}
			for s := r.ts - r.ts%slide - 10*spec.SizeMs; s <= r.ts; s += slide {
				if s <= r.ts && r.ts < s+spec.SizeMs && (r.only == nil || slices.Contains(r.only, s)) {
					add(r, s, s+spec.SizeMs)
				}
			}
		}
	case Session:
		byKey := map[string][]trow{}
		for _, r := range rows {
			if !r.tsNull {
				k := fmt.Sprint(r.kNull, r.k)
				byKey[k] = append(byKey[k], r)
			}
		}
		for _, rs := range byKey {
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].ts < rs[j].ts })
			for i := 0; i < len(rs); {
				j := i + 1
				for j < len(rs) && rs[j].ts < rs[j-1].ts+spec.GapMs {
					j++
				}
				for _, r := range rs[i:j] {
					add(r, rs[i].ts, rs[j-1].ts+spec.GapMs)
				}
				i = j
			}
		}
	}
	var gs []*acc
	for _, g := range groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(x, y *acc) int {
		if x.end != y.end {
			return cmpInt(x.end, y.end)
		}
		if x.keyNull != y.keyNull {
			if x.keyNull {
				return -1
			}
			return 1
		}
		return strings.Compare(x.key, y.key)
	})
	var out []string
	for _, g := range gs {
		var b strings.Builder
		if len(spec.Keys) > 0 {
			if g.keyNull {
				b.WriteString("(null)|")
			} else {
				b.WriteString(g.key + "|")
			}
		}
		fmt.Fprintf(&b, "%d|%d|%d|%d|", g.start, g.end, g.n, g.nv)
		if g.nv == 0 {
			b.WriteString("(null)|(null)|(null)|(null)|")
		} else {
			fmt.Fprintf(&b, "%s|%s|%s|%s|", fstr(g.sv), fstr(g.lo), fstr(g.hi), fstr(g.sv/float64(g.nv)))
		}
		fmt.Fprintf(&b, "%d", g.sq)
		out = append(out, b.String())
	}
	return out
}

func fstr(f float64) string {
	mem := memory.NewGoAllocator()
	a := columnar.BuildFloat64(mem, []float64{f}, nil)
	defer a.Release()
	return a.ValueStr(0)
}

func TestWindowsMatchNaive(t *testing.T) {
	for name, spec := range windowSpecs() {
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(7, uint64(len(name))))
			rows := genRows(rng, 8_000, 9, 300, 5)
			got, _ := runStream(t, mem, spec, rows, func() int { return 1 + rng.IntN(3000) })
			want := naiveWindows(spec, rows)
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i], got[i], "row %d", i)
			}
		})
	}
}

func TestKeyOrderTypes(t *testing.T) {
	// Closed windows come out ordered by window_end, then keys of any type.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sch := columnar.NewSchema([]string{"t", "f", "b", "i"}, []arrow.DataType{arrow.PrimitiveTypes.Int64,
		arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int32})
	w, err := NewTimeWindow(mem, sch, Spec{Kind: Tumbling, SizeMs: 10, Keys: []agg.KeySpec{{Column: 1}, {Column: 2}, {Column: 3}},
		Aggs: []agg.AggSpec{{Func: agg.CountStar, Name: "n"}}})
	require.NoError(t, err)
	defer w.Release()
	rec := columnar.NewRecord(sch, []arrow.Array{
		columnar.BuildInt64(mem, []int64{15, 1, 2, 3, 4, 5, 6}, nil),
		columnar.BuildFloat64(mem, []float64{0, 2.5, -1, 2.5, 2.5, 0, 2.5}, []bool{true, true, true, true, true, false, true}),
		columnar.BuildBool(mem, []bool{true, true, false, false, true, true, false}, nil),
		columnar.BuildInt32(mem, []int32{0, 9, 3, 1, 2, 5, 1}, nil),
	})
	defer rec.Release()
	out, err := w.Push(columnar.Batch{Rec: rec})
	require.NoError(t, err)
	fin, err := w.Finish()
	require.NoError(t, err)
	out = append(out, fin...)
	defer releaseRecords(out)
	require.Equal(t, []string{
		"(null)|true|5|0|10|1", "-1|false|3|0|10|1", "2.5|false|1|0|10|2", "2.5|true|2|0|10|1", "2.5|true|9|0|10|1",
		"0|true|0|10|20|1"}, rowsOf(out))
}

func TestSelectionVectorInput(t *testing.T) {
	// A filtered batch (selection vector) aggregates only its selected rows,
	// for every window kind.
	for name, spec := range windowSpecs() {
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(11, uint64(len(name))))
			rows := genRows(rng, 4000, 9, 300, 5)
			var sel []int32
			var kept []trow
			for i, r := range rows {
				if i%3 != 1 {
					sel = append(sel, int32(i))
					kept = append(kept, r)
				}
			}
			p := newPusher(t, mem, spec)
			rec := mkRec(mem, rows)
			out, err := p.w.Push(columnar.Batch{Rec: rec, Sel: sel})
			rec.Release()
			require.NoError(t, err)
			got := append(p.keep(out), p.finish()...)
			p.release()
			require.Equal(t, naiveWindows(spec, kept), got)
		})
	}
}

// TestLateRowsMatchNaive feeds rows with disorder beyond the allowed
// out-of-orderness in random batch sizes; a reference replays the watermark
// row by row, decides per row (and per window) what is late, and aggregates
// the rest naively. Output and counters must match for every batching.
func TestLateRowsMatchNaive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   Kind
		policy LatePolicy
	}{
		{"tumbling/drop", Tumbling, LateDrop},
		{"tumbling/warn", Tumbling, LateWarn},
		{"sliding/drop", Sliding, LateDrop},
		{"sliding/warn", Sliding, LateWarn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(21, uint64(tc.kind)*7+uint64(tc.policy)))
			n := 6000
			if testing.Short() {
				n = 2000
			}
			rows := genRows(rng, n, 10, 900, 4) // disorder up to 900 ms, allowed 300
			spec := Spec{Kind: tc.kind, SizeMs: 400, SlideMs: 100, MaxOutOfOrdernessMs: 300, AllowedLatenessMs: 50,
				Late: tc.policy, Keys: []agg.KeySpec{{Column: 1}}, Aggs: fullAggs,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			slide := spec.SizeMs
			if tc.kind == Sliding {
				slide = spec.SlideMs
			} else {
				spec.SlideMs = 0
			}
			// Reference: which (row, window) pairs are processed.
			var kept []trow
			var late, dropped int64
			wm := int64(math.MinInt64)
			for _, r := range rows {
				if r.tsNull {
					continue
				}
				var open []int64
				anyClosed := false
				for s := r.ts - r.ts%slide - spec.SizeMs; s <= r.ts; s += slide {
					if s > r.ts-spec.SizeMs && s <= r.ts {
						if s+spec.SizeMs+spec.AllowedLatenessMs <= wm {
							anyClosed = true
						} else {
							open = append(open, s)
						}
					}
				}
				if anyClosed {
					late++
				}
				switch {
				case !anyClosed:
					kept = append(kept, r)
				case tc.policy == LateWarn && len(open) > 0:
					rr := r
					rr.only = open // processed into its open windows only
					kept = append(kept, rr)
				default:
					dropped++
				}
				wm = max(wm, r.ts-spec.MaxOutOfOrdernessMs)
			}
			require.Positive(t, late)
			want := naiveWindows(spec, kept)
			for _, maxB := range []int{len(rows), 300, 5} {
				got, st := runStream(t, mem, spec, rows, func() int { return 1 + rng.IntN(maxB) })
				require.Equal(t, want, got, "batches up to %d", maxB)
				require.Equal(t, late, st.LateRows)
				require.Equal(t, dropped, st.LateDropped)
				require.Equal(t, late-dropped, st.LateProcessed)
			}
		})
	}
}
