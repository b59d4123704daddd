package window

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/velo-engine/velo/columnar"
)

// rowsSchema: seq int64 (arrival number), p utf8, t int64, v float64, q int64.
var rowsSchema = columnar.NewSchema([]string{"seq", "p", "t", "v", "q"},
	[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64})

type rrow struct {
	p            string
	pNull, tNull bool
	t            int64
	v            float64
	vNull        bool
	q            int64
	qNull        bool
}

func mkRowsRec(mem memory.Allocator, rows []rrow, firstSeq int) arrow.Record {
	n := len(rows)
	seq, ps, ts, vs, qs := make([]int64, n), make([]string, n), make([]int64, n), make([]float64, n), make([]int64, n)
	pv, tv, vv, qv := make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
	for i, r := range rows {
		seq[i], ps[i], ts[i], vs[i], qs[i] = int64(firstSeq+i), r.p, r.t, r.v, r.q
		pv[i], tv[i], vv[i], qv[i] = !r.pNull, !r.tNull, !r.vNull, !r.qNull
	}
	return columnar.NewRecord(rowsSchema, []arrow.Array{columnar.BuildInt64(mem, seq, nil), columnar.BuildString(mem, ps, pv),
		columnar.BuildInt64(mem, ts, tv), columnar.BuildFloat64(mem, vs, vv), columnar.BuildInt64(mem, qs, qv)})
}

func valueAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch c := a.(type) {
	case *array.Int64:
		return c.Value(i)
	case *array.Float64:
		return c.Value(i)
	case *array.String:
		return c.Value(i)
	}
	panic(fmt.Sprintf("type %s", a.DataType()))
}

// resultsBySeq maps seq → the computed columns of that row.
func resultsBySeq(t *testing.T, recs []arrow.Record, ncalls int) map[int64][]any {
	out := map[int64][]any{}
	for _, r := range recs {
		base := int(r.NumCols()) - ncalls
		for i := 0; i < int(r.NumRows()); i++ {
			seq := r.Column(0).(*array.Int64).Value(i)
			var vals []any
			for c := base; c < int(r.NumCols()); c++ {
				vals = append(vals, valueAt(r.Column(c), i))
			}
			_, dup := out[seq]
			require.False(t, dup, "row %d emitted twice", seq)
			out[seq] = vals
		}
	}
	return out
}

func runRows(t *testing.T, mem memory.Allocator, spec RowsSpec, rows []rrow, sizes func() int) ([]arrow.Record, *Rows) {
	op, err := NewRows(mem, rowsSchema, spec)
	require.NoError(t, err)
	var outs []arrow.Record
	for i := 0; i < len(rows); {
		n := min(sizes(), len(rows)-i)
		rec := mkRowsRec(mem, rows[i:i+n], i)
		o, err := op.Push(columnar.Batch{Rec: rec})
		rec.Release()
		require.NoError(t, err)
		outs = append(outs, o...)
		i += n
	}
	o, err := op.Finish()
	require.NoError(t, err)
	outs = append(outs, o...)
	for _, r := range outs {
		require.True(t, r.Schema().Equal(op.Schema()))
	}
	return outs, op
}

func TestRowsGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	spec := RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: []Call{
		{Func: Avg, Arg: 3, Preceding: 1}, {Func: Min, Arg: 3, Preceding: 1}, {Func: Max, Arg: 3, Preceding: 1},
		{Func: Sum, Arg: 4, Preceding: UnboundedPreceding}, {Func: Lag, Arg: 3, Default: -1.0}, {Func: Lead, Arg: 4, Offset: 2},
		{Func: RowNumber}, {Func: Rank}, {Func: DenseRank}, {Func: FirstValue, Arg: 3, Preceding: 1}, {Func: LastValue, Arg: 1},
	}}
	// Partition a, arriving out of order: t = 3, 1, 2, 2 (the two 2s tie: arrival order).
	rows := []rrow{{p: "a", t: 3, v: 30, q: 3}, {p: "b", t: 1, v: 5, q: 7}, {p: "a", t: 1, v: 10, q: 1},
		{p: "a", t: 2, v: 20, q: 2}, {p: "a", t: 2, vNull: true, q: 4}}
	outs, op := runRows(t, mem, spec, rows, func() int { return 2 })
	defer op.Release()
	defer releaseRecords(outs)
	require.Len(t, outs, 3) // one per pushed batch, rows in pushed order
	require.Equal(t, []string{"seq", "p", "t", "v", "q", "avg_v", "min_v", "max_v", "sum_q", "lag_v", "lead_q",
		"row_number", "rank", "dense_rank", "first_value_v", "last_value_p"}, fieldNames(op.Schema()))
	got := resultsBySeq(t, outs, len(spec.Calls))
	// a in order: seq2 (t1 v10 q1), seq3 (t2 v20 q2), seq4 (t2 NULL q4), seq0 (t3 v30 q3).
	require.Equal(t, []any{10.0, 10.0, 10.0, int64(1), -1.0, int64(4), int64(1), int64(1), int64(1), 10.0, "a"}, got[2])
	require.Equal(t, []any{15.0, 10.0, 20.0, int64(3), 10.0, int64(3), int64(2), int64(2), int64(2), 10.0, "a"}, got[3])
	require.Equal(t, []any{20.0, 20.0, 20.0, int64(7), 20.0, nil, int64(3), int64(2), int64(2), 20.0, "a"}, got[4])
	require.Equal(t, []any{30.0, 30.0, 30.0, int64(10), nil, nil, int64(4), int64(4), int64(3), nil, "a"}, got[0])
	require.Equal(t, []any{5.0, 5.0, 5.0, int64(7), -1.0, nil, int64(1), int64(1), int64(1), 5.0, "b"}, got[1])
	// The input columns are passed through untouched.
	require.Equal(t, "a", outs[0].Column(1).ValueStr(0))
}

func TestRowsSpecErrors(t *testing.T) {
	mem := memory.NewGoAllocator()
	for _, tc := range []struct {
		spec RowsSpec
		msg  string
	}{
		{RowsSpec{OrderBy: 2}, "at least one function"},
		{RowsSpec{OrderBy: 1, Calls: []Call{{Func: RowNumber}}}, `ORDER BY column "p" has type utf8`},
		{RowsSpec{OrderBy: 2, PartitionBy: []int{7}, Calls: []Call{{Func: RowNumber}}}, "PARTITION BY column 7"},
		{RowsSpec{OrderBy: 2, Calls: []Call{{Func: Sum, Arg: 1}}}, "SUM(p): argument type utf8"},
		{RowsSpec{OrderBy: 2, Calls: []Call{{Func: Lag, Arg: 3, Default: "x"}}}, "LAG(v) default: x (string) does not convert"},
		{RowsSpec{OrderBy: 2, Streaming: true, Calls: []Call{{Func: Lead, Arg: 3}}}, "LEAD(v) needs the following rows"},
		{RowsSpec{OrderBy: -1, Streaming: true, Calls: []Call{{Func: RowNumber}}}, "streaming ROWS window needs ORDER BY"},
		{RowsSpec{OrderBy: 2, Calls: []Call{{Func: Sum, Arg: 3, Preceding: -2}}}, "frame of -2 PRECEDING"},
	} {
		_, err := NewRows(mem, rowsSchema, tc.spec)
		require.ErrorContains(t, err, tc.msg)
	}
	for i, n := range funcNames {
		f, err := ParseFunc(strings.ToLower(n))
		require.NoError(t, err)
		require.Equal(t, Func(i), f)
	}
	_, err := ParseFunc("ntile")
	require.ErrorContains(t, err, `"ntile"`)
}

// allCalls covers every function and frame shape.
var allCalls = []Call{
	{Func: Sum, Arg: 3, Preceding: 3}, {Func: Avg, Arg: 3, Preceding: 3}, {Func: Count, Arg: 3, Preceding: 3},
	{Func: CountStar, Preceding: 3}, {Func: Min, Arg: 3, Preceding: 3}, {Func: Max, Arg: 3, Preceding: 3},
	{Func: Sum, Arg: 4, Preceding: UnboundedPreceding}, {Func: Avg, Arg: 4, Preceding: 0}, {Func: Min, Arg: 4, Preceding: UnboundedPreceding},
	{Func: Max, Arg: 3, Preceding: UnboundedPreceding}, {Func: Count, Arg: 4, Preceding: UnboundedPreceding}, {Func: Max, Arg: 4, Preceding: 5},
	{Func: Min, Arg: 3, Preceding: 20}, {Func: Sum, Arg: 4, Preceding: 7}, {Func: Count, Arg: 1, Preceding: 2},
	{Func: Lag, Arg: 3}, {Func: Lag, Arg: 4, Offset: 2, Default: int64(99)}, {Func: Lead, Arg: 3},
	{Func: Lead, Arg: 1, Offset: 3, Default: "zz"}, {Func: Lag, Arg: 2},
	{Func: RowNumber}, {Func: Rank}, {Func: DenseRank},
	{Func: FirstValue, Arg: 3, Preceding: 2}, {Func: FirstValue, Arg: 1, Preceding: UnboundedPreceding}, {Func: LastValue, Arg: 3},
}

// genRowsData makes random rows: few partitions, ties in t, NULLs in every
// column, floats with a wide dynamic range.
func genRowsData(rng *rand.Rand, n int, ties bool) []rrow {
	rows := make([]rrow, n)
	for i := range rows {
		r := rrow{p: fmt.Sprintf("p%d", rng.IntN(6)), q: rng.Int64N(2000) - 1000}
		r.pNull = rng.IntN(40) == 0
		if r.pNull {
			r.p = ""
		}
		if ties {
			r.t = rng.Int64N(int64(n / 3))
		} else {
			r.t = int64(i)*1000 + rng.Int64N(1000) // unique, then shuffled
		}
		switch rng.IntN(20) {
		case 0:
			r.v = (rng.Float64() - 0.5) * 1e12
		case 1:
			r.vNull = true
		default:
			r.v = (rng.Float64() - 0.5) * 100
		}
		r.qNull = rng.IntN(15) == 0
		rows[i] = r
	}
	if !ties {
		rng.Shuffle(n, func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	}
	return rows
}

// naiveRows computes every call per row with plain loops: per partition,
// a stable sort by t (NULL first), then each frame recomputed from scratch.
// It also returns each value's tolerance magnitude (0: exact).
func naiveRows(rows []rrow, calls []Call) (map[int64][]any, map[int64][]float64) {
	parts := map[string][]int{}
	for i, r := range rows {
		k := fmt.Sprint(r.pNull, r.p)
		parts[k] = append(parts[k], i)
	}
	key := func(i int) int64 {
		if rows[i].tNull {
			return math.MinInt64
		}
		return rows[i].t
	}
	out, tol := map[int64][]any{}, map[int64][]float64{}
	col := func(i, c int) any {
		r := rows[i]
		switch c {
		case 1:
			if r.pNull {
				return nil
			}
			return r.p
		case 2:
			if r.tNull {
				return nil
			}
			return r.t
		case 3:
			if r.vNull {
				return nil
			}
			return r.v
		case 4:
			if r.qNull {
				return nil
			}
			return r.q
		}
		return nil
	}
	for _, idx := range parts {
		slices.SortStableFunc(idx, func(a, b int) int { return cmpInt(key(a), key(b)) })
		for pos, i := range idx {
			var vals []any
			var tols []float64
			for _, c := range calls {
				lo := 0
				if c.Preceding != UnboundedPreceding {
					lo = max(0, pos-int(c.Preceding))
				}
				frame := idx[lo : pos+1]
				var v any
				mag := 0.0
				switch c.Func {
				case Sum, Avg, Count, Min, Max:
					var fs, mag2 float64
					var is int64
					n := 0
					var best any
					for _, j := range frame {
						x := col(j, c.Arg)
						if x == nil {
							continue
						}
						n++
						switch x := x.(type) {
						case float64:
							fs += x
							mag2 += math.Abs(x)
							if best == nil || (c.Func == Min && x < best.(float64)) || (c.Func == Max && x > best.(float64)) {
								best = x
							}
						case int64:
							is += x
							if best == nil || (c.Func == Min && x < best.(int64)) || (c.Func == Max && x > best.(int64)) {
								best = x
							}
						}
					}
					// The operator may carry error from the frame before this one.
					for _, j := range idx[max(0, lo-len(frame)):lo] {
						if x, ok := col(j, c.Arg).(float64); ok {
							mag2 += math.Abs(x)
						}
					}
					switch {
					case c.Func == Count:
						v = int64(n)
					case n == 0:
						v = nil
					case c.Func == Min || c.Func == Max:
						v = best
					case c.Arg == 3 && c.Func == Sum:
						v, mag = fs, mag2
					case c.Func == Sum:
						v = is
					case c.Arg == 3:
						v, mag = fs/float64(n), mag2/float64(n)
					default:
						v = float64(is) / float64(n)
						mag = math.Abs(float64(is)) / float64(n)
					}
				case CountStar:
					v = int64(len(frame))
				case Lag, Lead:
					off := int(max(c.Offset, 1))
					j := pos - off
					if c.Func == Lead {
						j = pos + off
					}
					if j >= 0 && j < len(idx) {
						v = col(idx[j], c.Arg)
					} else {
						v = c.Default
					}
				case RowNumber:
					v = int64(pos + 1)
				case Rank:
					r := pos
					for r > 0 && key(idx[r-1]) == key(i) {
						r--
					}
					v = int64(r + 1)
				case DenseRank:
					d := int64(1)
					for j := 1; j <= pos; j++ {
						if key(idx[j]) != key(idx[j-1]) {
							d++
						}
					}
					v = d
				case FirstValue:
					v = col(frame[0], c.Arg)
				case LastValue:
					v = col(i, c.Arg)
				}
				vals = append(vals, v)
				tols = append(tols, mag)
			}
			out[int64(i)], tol[int64(i)] = vals, tols
		}
	}
	return out, tol
}

func requireClose(t *testing.T, want, got map[int64][]any, tol map[int64][]float64, calls []Call) {
	require.Equal(t, len(want), len(got))
	for seq, w := range want {
		g := got[seq]
		require.Len(t, g, len(w), "row %d", seq)
		for c := range w {
			wf, ok1 := w[c].(float64)
			gf, ok2 := g[c].(float64)
			if ok1 && ok2 {
				m := 0.0
				if tol != nil {
					m = tol[seq][c]
				}
				require.InDelta(t, wf, gf, 1e-9*(1+m), "row %d %s(%d)", seq, calls[c].Func, calls[c].Arg)
				continue
			}
			require.Equal(t, w[c], g[c], "row %d %s(%d) preceding %d", seq, calls[c].Func, calls[c].Arg, calls[c].Preceding)
		}
	}
}

func TestRowsMatchNaive(t *testing.T) {
	for _, ties := range []bool{false, true} {
		t.Run(fmt.Sprint("ties=", ties), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(3, 4))
			rows := genRowsData(rng, 3000, ties)
			for i := range rows {
				rows[i].tNull = rng.IntN(100) == 0
			}
			want, tol := naiveRows(rows, allCalls)
			outs, op := runRows(t, mem, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: allCalls}, rows, func() int { return 1 + rng.IntN(700) })
			defer op.Release()
			defer releaseRecords(outs)
			requireClose(t, want, resultsBySeq(t, outs, len(allCalls)), tol, allCalls)
		})
	}
}

func TestRowsDescAndNoOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := []rrow{{t: 1, q: 1}, {t: 3, q: 2}, {t: 2, q: 3}}
	calls := []Call{{Func: RowNumber}, {Func: Lag, Arg: 4}, {Func: Rank}}
	outs, op := runRows(t, mem, RowsSpec{OrderBy: 2, OrderDesc: true, Calls: calls}, rows, func() int { return 3 })
	got := resultsBySeq(t, outs, 3)
	require.Equal(t, map[int64][]any{1: {int64(1), nil, int64(1)}, 2: {int64(2), int64(2), int64(2)}, 0: {int64(3), int64(3), int64(3)}}, got)
	releaseRecords(outs)
	op.Release()
	// No ORDER BY: arrival order, every row a peer.
	outs, op = runRows(t, mem, RowsSpec{OrderBy: -1, Calls: calls}, rows, func() int { return 1 })
	got = resultsBySeq(t, outs, 3)
	require.Equal(t, map[int64][]any{0: {int64(1), nil, int64(1)}, 1: {int64(2), int64(1), int64(1)}, 2: {int64(3), int64(2), int64(1)}}, got)
	releaseRecords(outs)
	op.Release()
}

func TestRowsMatchSQLite(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(5, 6))
	n := 4000
	if testing.Short() {
		n = 800
	}
	rows := genRowsData(rng, n, true)
	_, err = db.Exec(`CREATE TABLE r (seq INTEGER, p TEXT, t INTEGER, v REAL, q INTEGER)`)
	require.NoError(t, err)
	tx, err := db.Begin()
	require.NoError(t, err)
	for i, r := range rows {
		var p, v, q any = r.p, r.v, r.q
		if r.pNull {
			p = nil
		}
		if r.vNull {
			v = nil
		}
		if r.qNull {
			q = nil
		}
		_, err := tx.Exec(`INSERT INTO r VALUES (?, ?, ?, ?, ?)`, i, p, r.t, v, q)
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	// ORDER BY ties are broken by arrival (seq), Velo's stable-sort rule; the
	// ranking functions see the ties (ORDER BY t alone).
	var exprs []string
	names := []string{"", "p", "t", "v", "q"}
	for _, c := range allCalls {
		frame := "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
		if c.Preceding != UnboundedPreceding {
			frame = fmt.Sprintf("ROWS BETWEEN %d PRECEDING AND CURRENT ROW", c.Preceding)
		}
		w := "PARTITION BY p ORDER BY t, seq " + frame
		arg := names[max(c.Arg, 0)]
		var e string
		switch c.Func {
		case CountStar:
			e = "COUNT(*)"
		case Lag, Lead:
			d := "NULL"
			switch x := c.Default.(type) {
			case int64:
				d = fmt.Sprint(x)
			case string:
				d = "'" + x + "'"
			}
			e = fmt.Sprintf("%s(%s, %d, %s)", c.Func, arg, max(c.Offset, 1), d)
		case RowNumber:
			e = "ROW_NUMBER()"
		case Rank, DenseRank:
			e, w = c.Func.String()+"()", "PARTITION BY p ORDER BY t"
		default:
			e = fmt.Sprintf("%s(%s)", c.Func, arg)
		}
		exprs = append(exprs, fmt.Sprintf("%s OVER (%s)", e, w))
	}
	res, err := db.Query("SELECT seq, " + strings.Join(exprs, ", ") + " FROM r")
	require.NoError(t, err)
	want := map[int64][]any{}
	for res.Next() {
		vals := make([]any, len(allCalls)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, res.Scan(ptrs...))
		for i, c := range allCalls {
			// SQLite's integer-valued results and Velo's types differ only by Go type.
			if x, ok := vals[i+1].(int64); ok && (c.Func == Avg || (c.Arg == 3 && c.Func != Count)) {
				vals[i+1] = float64(x)
			}
			if x, ok := vals[i+1].(float64); ok && c.Arg == 4 && (c.Func == Sum || c.Func == Min || c.Func == Max || c.Func == Lag) {
				vals[i+1] = int64(x)
			}
		}
		want[vals[0].(int64)] = vals[1:]
	}
	require.NoError(t, res.Err())
	_, tol := naiveRows(rows, allCalls)
	outs, op := runRows(t, mem, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: allCalls}, rows, func() int { return 1 + rng.IntN(1000) })
	defer op.Release()
	defer releaseRecords(outs)
	requireClose(t, want, resultsBySeq(t, outs, len(allCalls)), tol, allCalls)
}

// TestRowsRankingOnlyAndEmpty: a bounded stage of ranking functions alone
// (no function that keeps row references) and a Finish without rows used
// to panic.
func TestRowsRankingOnlyAndEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	spec := RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: []Call{{Func: RowNumber}, {Func: Rank}, {Func: DenseRank}}}
	rows := []rrow{{p: "a", t: 2}, {p: "a", t: 1}, {p: "b", t: 5}, {p: "a", t: 2}}
	outs, op := runRows(t, mem, spec, rows, func() int { return 3 })
	got := resultsBySeq(t, outs, len(spec.Calls))
	// a in order: seq1 (t1), seq0 (t2), seq3 (t2, tie → arrival order).
	require.Equal(t, []any{int64(1), int64(1), int64(1)}, got[1])
	require.Equal(t, []any{int64(2), int64(2), int64(2)}, got[0])
	require.Equal(t, []any{int64(3), int64(2), int64(2)}, got[3])
	require.Equal(t, []any{int64(1), int64(1), int64(1)}, got[2])
	releaseRecords(outs)
	op.Release()

	// Finish with no rows at all, and after only an empty batch.
	for _, pushEmpty := range []bool{false, true} {
		op, err := NewRows(mem, rowsSchema, spec)
		require.NoError(t, err)
		if pushEmpty {
			rec := mkRowsRec(mem, nil, 0)
			o, err := op.Push(columnar.Batch{Rec: rec})
			rec.Release()
			require.NoError(t, err)
			require.Empty(t, o)
		}
		o, err := op.Finish()
		require.NoError(t, err)
		require.Empty(t, o)
		op.Release()
	}
}
