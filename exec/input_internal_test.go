package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

// inputBatchGather is inputBatch as it was before selections were kept:
// with any computed input, every input is evaluated over the selected
// rows (plain columns gathered) into a record without selection. It is the
// oracle of TestInputBatch and the baseline of BenchmarkInputBatch.
func inputBatchGather(b columnar.Batch, inputs []sqlfront.BoundExpr, plain bool, inSchema *arrow.Schema) (columnar.Batch, error) {
	cols := make([]arrow.Array, len(inputs))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	if plain {
		for i, e := range inputs {
			cols[i] = b.Rec.Column(e.(*sqlfront.ColRef).Index)
			cols[i].Retain()
		}
		return columnar.Batch{Rec: array.NewRecord(inSchema, cols, int64(b.NumRows())), Sel: b.Sel}, nil
	}
	rs := selRows(b.Rec, b.Sel)
	for i, e := range inputs {
		v, err := evalExpr(e, rs)
		if err != nil {
			return columnar.Batch{}, err
		}
		if err := checkKind(v, e.DataType(), e); err != nil {
			return columnar.Batch{}, err
		}
		cols[i] = v.toArray(e.DataType())
	}
	return columnar.Batch{Rec: array.NewRecord(inSchema, cols, int64(b.Len())), Sel: nil}, nil
}

// Bound-expression builders for the tests.
func tcol(i int, name string, t arrow.DataType) *sqlfront.ColRef {
	return &sqlfront.ColRef{Typed: sqlfront.Typed{Type: t, Null: true}, Index: i, Name: name}
}

func tbin(op sqlfront.BinaryOp, t arrow.DataType, l, r sqlfront.BoundExpr) *sqlfront.Binary {
	return &sqlfront.Binary{Typed: sqlfront.Typed{Type: t, Null: true}, Op: op, L: l, R: r}
}

func tcast(t arrow.DataType, x sqlfront.BoundExpr) *sqlfront.Cast {
	return &sqlfront.Cast{Typed: sqlfront.Typed{Type: t, Null: true}, X: x}
}

func tconst(t arrow.DataType, v any) *sqlfront.Const {
	return &sqlfront.Const{Typed: sqlfront.Typed{Type: t, Null: v == nil}, Value: v}
}

var (
	tI64  = arrow.PrimitiveTypes.Int64
	tI32  = arrow.PrimitiveTypes.Int32
	tF64  = arrow.PrimitiveTypes.Float64
	tBool = arrow.FixedWidthTypes.Boolean
	tStr  = arrow.BinaryTypes.String
)

// inputTestRecord is n rows of (i int64, f float64, s utf8, q int64, b bool)
// with NULLs in every column; i holds MaxInt64 in the rows where big is set.
func inputTestRecord(mem memory.Allocator, n int, rng *rand.Rand, big func(int) bool) arrow.Record {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: tI64, Nullable: true}, {Name: "f", Type: tF64, Nullable: true},
		{Name: "s", Type: tStr, Nullable: true}, {Name: "q", Type: tI64, Nullable: true},
		{Name: "b", Type: tBool, Nullable: true},
	}, nil)
	iv, fv, sv, qv, bv := make([]int64, n), make([]float64, n), make([]string, n), make([]int64, n), make([]bool, n)
	ok := [5][]bool{}
	for c := range ok {
		ok[c] = make([]bool, n)
		for r := range n {
			ok[c][r] = rng.IntN(8) != 0
		}
	}
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1)}
	for r := range n {
		iv[r] = rng.Int64N(2001) - 1000
		if big(r) {
			iv[r], ok[0][r] = math.MaxInt64, true
		}
		fv[r] = rng.Float64()*200 - 100
		if rng.IntN(10) == 0 {
			fv[r] = specials[rng.IntN(len(specials))]
		}
		sv[r] = fmt.Sprintf("s%d", rng.IntN(50))
		qv[r] = rng.Int64N(7) - 3
		bv[r] = rng.IntN(2) == 0
	}
	return columnar.NewRecord(schema, []arrow.Array{
		columnar.BuildInt64(mem, iv, ok[0]), columnar.BuildFloat64(mem, fv, ok[1]),
		columnar.BuildString(mem, sv, ok[2]), columnar.BuildInt64(mem, qv, ok[3]),
		columnar.BuildBool(mem, bv, ok[4]),
	})
}

// inputTestExprs are aggregate inputs of every path: plain columns, total
// expressions (dense over the record) and failing ones (over the selected
// rows, scattered): integer overflow, a failing CAST, strings.
func inputTestExprs() []sqlfront.BoundExpr {
	i, f, s, q, b := tcol(0, "i", tI64), tcol(1, "f", tF64), tcol(2, "s", tStr), tcol(3, "q", tI64), tcol(4, "b", tBool)
	return []sqlfront.BoundExpr{
		s,
		f,
		tbin(sqlfront.OpMul, tF64, f, tcast(tF64, q)), // fused float × int, total
		tbin(sqlfront.OpDiv, tF64, f, tcast(tF64, q)), // division by zero: ±Inf/NaN, total
		tbin(sqlfront.OpAnd, tBool, tbin(sqlfront.OpGt, tBool, f, tconst(tF64, 0.5)), b),
		tbin(sqlfront.OpSub, tF64, f, tbin(sqlfront.OpMul, tF64, f, f)),                 // float arithmetic at the selected rows only
		tbin(sqlfront.OpGt, tBool, tbin(sqlfront.OpDiv, tF64, f, f), tconst(tF64, 0.5)), // … read whole by a comparison
		tbin(sqlfront.OpMod, tF64, f, tconst(tF64, 3.0)),
		tbin(sqlfront.OpMul, tI64, i, tconst(tI64, int64(2))), // overflows on MaxInt64
		tbin(sqlfront.OpMod, tI64, i, q),                      // % 0 is NULL
		tcast(tI32, f),                                        // fails on NaN, ±Inf
		tbin(sqlfront.OpConcat, tStr, s, tconst(tStr, "!")),
		tconst(tF64, nil),
	}
}

func inputSchema(inputs []sqlfront.BoundExpr) *arrow.Schema {
	fields := make([]arrow.Field, len(inputs))
	for i, e := range inputs {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: e.DataType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// requireSameInputs checks that got (with its selection) holds, row by
// row, the values of want (dense, no selection).
func requireSameInputs(t *testing.T, want, got columnar.Batch, inputs []sqlfront.BoundExpr) {
	t.Helper()
	require.Nil(t, want.Sel)
	require.Equal(t, want.Len(), got.Len())
	for c, e := range inputs {
		wa, ga := want.Rec.Column(c), got.Rec.Column(c)
		require.True(t, arrow.TypeEqual(wa.DataType(), ga.DataType()), "%s", e)
		for k := range want.Len() {
			r := k
			if got.Sel != nil {
				r = int(got.Sel[k])
			}
			require.Equal(t, wa.IsNull(k), ga.IsNull(r), "%s row %d (physical %d)", e, k, r)
			if wa.IsNull(k) {
				continue
			}
			wv, gv := wa.ValueStr(k), ga.ValueStr(r)
			require.Equal(t, wv, gv, "%s row %d (physical %d)", e, k, r)
		}
	}
}

// TestInputBatch compares inputBatch with the gathering implementation over
// selections of every density (dense evaluation at ≥ 1 row in 4, sparse
// below) on records with NULLs, NaN and ±Inf, and checks that a failing
// expression raises its error exactly when a selected row fails.
func TestInputBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(7, 11))
	const n = 1000
	inputs := inputTestExprs()
	schema := inputSchema(inputs)
	every := func(k int) func(int) bool { return func(r int) bool { return r%k == 0 } }
	sels := map[string]func(int) bool{
		"none": nil, "all": func(int) bool { return true }, "empty": func(int) bool { return false },
		"1/2": every(2), "1/4": every(4), "1/5": every(5), "1/7": every(7), "1/64": every(64),
		"random": func(int) bool { return rng.IntN(3) == 0 },
	}
	for name, keep := range sels {
		for _, c := range []struct {
			bigInSel bool
			poolMin  int64 // 1: every float64 result in a recycled buffer
		}{{false, 1 << 20}, {true, 1 << 20}, {false, 1}} {
			bigInSel := c.bigInSel
			t.Run(fmt.Sprintf("%s/overflow-selected=%v/pool-min=%d", name, bigInSel, c.poolMin), func(t *testing.T) {
				defer func(old int64) { poolMinBytes.Store(old) }(poolMinBytes.Swap(c.poolMin))
				var sel []int32
				if keep != nil {
					sel = []int32{}
					for r := range n {
						if keep(r) {
							sel = append(sel, int32(r))
						}
					}
				}
				selected := map[int]bool{}
				for _, r := range sel {
					selected[int(r)] = true
				}
				// MaxInt64 in i: in a selected row or only outside the
				// selection (every row when there is no selection).
				big := func(r int) bool { return r%97 == 3 && (sel == nil || selected[r] == bigInSel) }
				rec := inputTestRecord(mem, n, rng, big)
				defer rec.Release()
				b := columnar.Batch{Rec: rec, Sel: sel}
				bigSelected := false
				for r := range n {
					bigSelected = bigSelected || (big(r) && (sel == nil || selected[r]))
				}
				want, werr := inputBatchGather(b, inputs, false, schema)
				got, gerr := inputBatch(b, inputs, false, schema, nil)
				if bigSelected {
					require.ErrorIs(t, werr, ErrOverflow)
					require.ErrorIs(t, gerr, ErrOverflow)
					return
				}
				if werr != nil {
					// CAST(f AS INT) fails on a selected NaN or ±Inf.
					require.ErrorIs(t, werr, ErrConversion)
					require.Equal(t, werr.Error(), gerr.Error())
					// Without the failing CAST both agree row by row.
					inputs := append(inputs[:10:10], inputs[11:]...)
					schema := inputSchema(inputs)
					want, werr = inputBatchGather(b, inputs, false, schema)
					got, gerr = inputBatch(b, inputs, false, schema, nil)
					require.NoError(t, werr)
					require.NoError(t, gerr)
					defer want.Rec.Release()
					defer got.Rec.Release()
					requireSameInputs(t, want, got, inputs)
					return
				}
				require.NoError(t, gerr)
				defer want.Rec.Release()
				defer got.Rec.Release()
				if sel != nil {
					require.Equal(t, sel, got.Sel)
					require.EqualValues(t, n, got.Rec.NumRows())
				}
				requireSameInputs(t, want, got, inputs)
			})
		}
	}
}

// TestInputBatchOverflowOutsideSelection is the error rule on its own: i * 2
// overflows on a row outside the selection (filtered out, or another
// partition's) — no error; on a selected row — the overflow error. The
// float product beside it is evaluated densely either way.
func TestInputBatchOverflowOutsideSelection(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: tI64}, {Name: "f", Type: tF64}}, nil)
	rec := columnar.NewRecord(schema, []arrow.Array{
		columnar.BuildInt64(mem, []int64{1, math.MaxInt64, 3, 4}, nil),
		columnar.BuildFloat64(mem, []float64{0.5, 1.5, 2.5, 3.5}, nil),
	})
	defer rec.Release()
	i, f := tcol(0, "i", tI64), tcol(1, "f", tF64)
	inputs := []sqlfront.BoundExpr{tbin(sqlfront.OpMul, tI64, i, tconst(tI64, int64(2))), tbin(sqlfront.OpMul, tF64, f, f)}
	in := inputSchema(inputs)
	for _, tc := range []struct {
		sel      []int32
		overflow bool
		want     [][2]string // (i*2, f*f) per selected row
	}{
		{sel: []int32{0, 2, 3}, want: [][2]string{{"2", "0.25"}, {"6", "6.25"}, {"8", "12.25"}}},
		{sel: []int32{3}, want: [][2]string{{"8", "12.25"}}},
		{sel: []int32{1, 2}, overflow: true},
		{sel: nil, overflow: true},
	} {
		got, err := inputBatch(columnar.Batch{Rec: rec, Sel: tc.sel}, inputs, false, in, nil)
		if tc.overflow {
			require.ErrorIs(t, err, ErrOverflow, "sel %v", tc.sel)
			continue
		}
		require.NoError(t, err, "sel %v", tc.sel)
		require.Equal(t, tc.sel, got.Sel)
		for k, r := range tc.sel {
			require.Equal(t, tc.want[k][0], got.Rec.Column(0).ValueStr(int(r)))
			require.Equal(t, tc.want[k][1], got.Rec.Column(1).ValueStr(int(r)))
		}
		got.Rec.Release()
	}
}

// TestTotalExpr pins which expressions inputBatch may evaluate on rows
// outside the selection.
func TestTotalExpr(t *testing.T) {
	i, f, s, q, b := tcol(0, "i", tI64), tcol(1, "f", tF64), tcol(2, "s", tStr), tcol(3, "q", tI64), tcol(4, "b", tBool)
	n32 := tcol(5, "n32", tI32)
	for _, tc := range []struct {
		e     sqlfront.BoundExpr
		total bool
	}{
		{f, true}, {i, true}, {b, true}, {s, false},
		{tbin(sqlfront.OpMul, tF64, f, tcast(tF64, q)), true},
		{tbin(sqlfront.OpDiv, tF64, f, f), true},
		{tbin(sqlfront.OpMod, tF64, f, f), true},
		{tbin(sqlfront.OpAdd, tI64, i, q), false},
		{tbin(sqlfront.OpMul, tI64, i, q), false},
		{tbin(sqlfront.OpMod, tI64, i, q), false},
		{tbin(sqlfront.OpLt, tBool, i, q), true},
		{tbin(sqlfront.OpOr, tBool, b, tbin(sqlfront.OpEq, tBool, s, tconst(tStr, "x"))), false},
		{tbin(sqlfront.OpConcat, tStr, s, s), false},
		{&sqlfront.Unary{Typed: sqlfront.Typed{Type: tF64}, Op: sqlfront.OpNeg, X: f}, true},
		{&sqlfront.Unary{Typed: sqlfront.Typed{Type: tI64}, Op: sqlfront.OpNeg, X: i}, false},
		{&sqlfront.Unary{Typed: sqlfront.Typed{Type: tBool}, Op: sqlfront.OpNot, X: b}, true},
		{&sqlfront.IsNull{Typed: sqlfront.Typed{Type: tBool}, X: s}, false},
		{&sqlfront.IsNull{Typed: sqlfront.Typed{Type: tBool}, X: f}, true},
		{&sqlfront.Between{Typed: sqlfront.Typed{Type: tBool}, X: f, Lo: tconst(tF64, 1.0), Hi: tconst(tF64, nil)}, true},
		{&sqlfront.In{Typed: sqlfront.Typed{Type: tBool}, X: i, List: []sqlfront.BoundExpr{q, tbin(sqlfront.OpSub, tI64, i, q)}}, false},
		{tcast(tF64, i), true}, {tcast(tF64, n32), true}, {tcast(tI64, n32), true}, {tcast(tI64, b), true},
		{tcast(tI64, f), false}, {tcast(tI32, i), false}, {tcast(tF64, s), false}, {tcast(tStr, f), false},
		{tcast(&arrow.TimestampType{Unit: arrow.Second}, tcol(6, "ts", &arrow.TimestampType{Unit: arrow.Millisecond})), false},
		{&sqlfront.Call{Typed: sqlfront.Typed{Type: tF64}, Func: "abs", Args: []sqlfront.BoundExpr{f}}, false},
	} {
		require.Equal(t, tc.total, totalExpr(tc.e), "%s", tc.e)
	}
}

// scenarioRecords are S3a-like records of market_data: trade_time, symbol
// (1,000 symbols), price, quantity.
func scenarioRecords(mem memory.Allocator, nrec, rows int) []arrow.Record {
	rng := rand.New(rand.NewPCG(42, 1))
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "trade_time", Type: tI64}, {Name: "symbol", Type: tStr},
		{Name: "price", Type: tF64}, {Name: "quantity", Type: tI64},
	}, nil)
	recs := make([]arrow.Record, nrec)
	for k := range recs {
		tt, sym, px, qty := make([]int64, rows), make([]string, rows), make([]float64, rows), make([]int64, rows)
		for r := range rows {
			tt[r] = 1_700_000_000_000 + int64(k*rows+r)
			sym[r] = fmt.Sprintf("SYM%04d", rng.IntN(1000))
			px[r] = 10 + rng.Float64()*490
			qty[r] = 1 + rng.Int64N(1000)
		}
		recs[k] = columnar.NewRecord(schema, []arrow.Array{
			columnar.BuildInt64(mem, tt, nil), columnar.BuildString(mem, sym, nil),
			columnar.BuildFloat64(mem, px, nil), columnar.BuildInt64(mem, qty, nil),
		})
	}
	return recs
}

// BenchmarkInputBatch measures what building the time window's input costs
// for S3a (symbol, trade_time, price, quantity, price * quantity) per row
// the operator consumes (wall and process CPU time, GC included): over whole records (one partition) and over the
// share of each record hash routing gives one of 2 or 7 partitions, with
// inputBatch (with and without recycling its float64 results through
// resultPool) and with the gathering implementation it replaced
// (inputBatchGather), in one binary.
func BenchmarkInputBatch(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs := scenarioRecords(mem, 128, 8192)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	tt, sym, px, qty := tcol(0, "trade_time", tI64), tcol(1, "symbol", tStr), tcol(2, "price", tF64), tcol(3, "quantity", tI64)
	// total: S3a's SUM(price * quantity), evaluated over the record; int:
	// SUM(quantity * 2) instead, which can overflow, so it is evaluated
	// over the selected rows and scattered.
	computed := map[string]sqlfront.BoundExpr{
		"total": tbin(sqlfront.OpMul, tF64, px, tcast(tF64, qty)),
		"int":   tbin(sqlfront.OpMul, tI64, qty, tconst(tI64, int64(2))),
	}
	impls := []struct {
		name    string
		f       func(columnar.Batch, []sqlfront.BoundExpr, bool, *arrow.Schema) (columnar.Batch, error)
		recycle bool
	}{{"gather", inputBatchGather, false}, {"keep-sel", buildInput, false}, {"keep-sel-recycled", buildInput, true}}
	for _, parts := range []int{1, 2, 7} {
		// Partition 0's rows of each record, by a hash of the symbol.
		sels := make([][]int32, len(recs))
		rows := 0
		for k, r := range recs {
			if parts == 1 {
				rows += int(r.NumRows())
				continue
			}
			s := r.Column(1).(*array.String)
			sels[k] = []int32{}
			for i := range int(r.NumRows()) {
				if xxhash.Sum64String(s.Value(i))%uint64(parts) == 0 {
					sels[k] = append(sels[k], int32(i))
				}
			}
			rows += len(sels[k])
		}
		for _, impl := range impls {
			for _, arg := range []string{"total", "int"} {
				inputs := []sqlfront.BoundExpr{sym, tt, px, qty, computed[arg]}
				schema := inputSchema(inputs)
				benchInputBatch(b, fmt.Sprintf("partitions=%d/%s/%s", parts, arg, impl.name), recs, sels, rows, inputs, schema, impl.f, impl.recycle)
			}
		}
	}
}

func benchInputBatch(b *testing.B, name string, recs []arrow.Record, sels [][]int32, rows int, inputs []sqlfront.BoundExpr, schema *arrow.Schema,
	f func(columnar.Batch, []sqlfront.BoundExpr, bool, *arrow.Schema) (columnar.Batch, error), recycle bool) {
	b.Run(name, func(b *testing.B) {
		if !recycle {
			defer func(old int64) { poolMinBytes.Store(old) }(poolMinBytes.Swap(math.MaxInt64))
		}
		c0 := cpuTime()
		for b.Loop() {
			for k, r := range recs {
				in, err := f(columnar.Batch{Rec: r, Sel: sels[k]}, inputs, false, schema)
				if err != nil {
					b.Fatal(err)
				}
				in.Rec.Release()
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		b.ReportMetric(float64(cpuTime()-c0)/float64(b.N*rows), "cpu-ns/row")
	})
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestInputBatchKeepsKeyHashes checks that inputBatch passes the router's
// key hashes on, renumbered, when each key column reaches the operator's
// input as the same array, and drops them when one does not.
func TestInputBatchKeepsKeyHashes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "symbol", Type: tStr, Nullable: true},
		{Name: "quantity", Type: tI64, Nullable: true},
		{Name: "price", Type: tF64, Nullable: true},
	}, nil)
	sym := columnar.BuildString(mem, []string{"a", "b", "a", "c"}, nil)
	qty := columnar.BuildInt64(mem, []int64{1, 2, 3, 4}, nil)
	px := columnar.BuildFloat64(mem, []float64{1.5, 2.5, 3.5, 4.5}, nil)
	rec := array.NewRecord(schema, []arrow.Array{sym, qty, px}, 4)
	sym.Release()
	qty.Release()
	px.Release()
	defer rec.Release()
	keys := &columnar.KeyHashes{Cols: []int{0}, Hashes: []uint64{10, 11, 10, 12}, Words: []int64{1, 2, 1, 3}}
	symbol, quantity, price := tcol(0, "symbol", tStr), tcol(1, "quantity", tI64), tcol(2, "price", tF64)
	cases := []struct {
		name   string
		inputs []sqlfront.BoundExpr
		plain  bool
		sel    []int32
		want   []int // nil: dropped
	}{
		{"plain, key moved", []sqlfront.BoundExpr{quantity, symbol}, true, nil, []int{1}},
		{"plain, selection", []sqlfront.BoundExpr{symbol, price}, true, []int32{1, 3}, []int{0}},
		{"computed input", []sqlfront.BoundExpr{price, tbin(sqlfront.OpMul, tF64, price, price), symbol}, false, []int32{0, 2, 3}, []int{2}},
		{"computed input, all rows", []sqlfront.BoundExpr{symbol, tbin(sqlfront.OpMul, tF64, price, price)}, false, nil, []int{0}},
		{"key not an input", []sqlfront.BoundExpr{quantity, price}, true, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fields []arrow.Field
			for i, e := range tc.inputs {
				fields = append(fields, arrow.Field{Name: fmt.Sprint(i), Type: e.DataType(), Nullable: true})
			}
			var scratch columnar.KeyHashes
			in, err := inputBatch(columnar.Batch{Rec: rec, Sel: tc.sel, Keys: keys}, tc.inputs, tc.plain, arrow.NewSchema(fields, nil), &scratch)
			require.NoError(t, err)
			defer in.Rec.Release()
			if tc.want == nil {
				require.Nil(t, in.Keys)
				return
			}
			require.NotNil(t, in.Keys)
			require.Equal(t, tc.want, in.Keys.Cols)
			require.Equal(t, keys.Hashes, in.Keys.Hashes)
			require.Equal(t, keys.Words, in.Keys.Words)
			require.Equal(t, []int{0}, keys.Cols, "the batch's own keys are left alone")
			require.Same(t, rec.Column(0), in.Rec.Column(in.Keys.Cols[0]))
		})
	}
	// Without keys nothing is attached.
	in, err := inputBatch(columnar.Batch{Rec: rec}, []sqlfront.BoundExpr{symbol}, true, arrow.NewSchema([]arrow.Field{{Name: "0", Type: tStr, Nullable: true}}, nil), &columnar.KeyHashes{})
	require.NoError(t, err)
	defer in.Rec.Release()
	require.Nil(t, in.Keys)
}
