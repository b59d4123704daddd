package agg

import (
	"fmt"
	"math"
	mbig "math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
)

// The oracle: one row at a time into Go maps, with SQL semantics written
// out plainly.

type refAcc struct {
	rows, count int64
	isum        int64
	fsum        float64
	fvals       []float64
	min, max    any
	first, last any
	firstSet    bool
	distinct    map[string]bool
	overflow    bool
	anyValue    bool
	lastSet     bool
}

// cell returns row r of arr as a Go value (nil for NULL): int64, float64,
// string or bool.
func cell(arr arrow.Array, r int) any {
	if arr.IsNull(r) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value(r)
	case *array.Int32:
		return int64(a.Value(r))
	case *array.Timestamp:
		return int64(a.Value(r))
	case *array.Float64:
		return a.Value(r)
	case *array.Float32:
		return float64(a.Value(r))
	case *array.String:
		return a.Value(r)
	case *array.Boolean:
		return a.Value(r)
	}
	panic(fmt.Sprintf("cell of %T", arr))
}

func refLess(a, b any) bool {
	switch x := a.(type) {
	case int64:
		return x < b.(int64)
	case float64:
		return floatLess(x, b.(float64))
	case string:
		return x < b.(string)
	case bool:
		return !x && b.(bool)
	}
	panic("refLess")
}

func distinctKey(v any) string {
	if f, ok := v.(float64); ok {
		switch {
		case f != f:
			return "NaN"
		case f == 0:
			return "0"
		}
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func (acc *refAcc) add(f Func, v any) {
	acc.rows++
	if f == First && !acc.firstSet {
		acc.first, acc.firstSet = v, true
	}
	if f == Last {
		acc.last, acc.lastSet = v, true
	}
	if v == nil {
		return
	}
	acc.count++
	acc.anyValue = true
	switch x := v.(type) {
	case int64:
		s := acc.isum + x
		if (acc.isum^s)&(x^s) < 0 {
			acc.overflow = true
		}
		acc.isum = s
		acc.fsum += float64(x)
		acc.fvals = append(acc.fvals, float64(x))
	case float64:
		acc.fsum += x
		acc.fvals = append(acc.fvals, x)
	}
	if acc.min == nil || refLess(v, acc.min) {
		acc.min = v
	}
	if acc.max == nil || refLess(acc.max, v) {
		acc.max = v
	}
	if acc.distinct == nil {
		acc.distinct = map[string]bool{}
	}
	acc.distinct[distinctKey(v)] = true
}

// result is what aggregate spec s should give for acc (nil: NULL).
func (acc *refAcc) result(s AggSpec, in arrow.DataType) any {
	switch s.Func {
	case CountStar:
		return acc.rows
	case Count:
		if s.Distinct {
			return int64(len(acc.distinct))
		}
		return acc.count
	case ApproxCountDistinct:
		return int64(len(acc.distinct))
	case Sum:
		if !acc.anyValue {
			return nil
		}
		if isFloat(in) {
			return acc.fsum
		}
		return acc.isum
	case Avg:
		if !acc.anyValue {
			return nil
		}
		return acc.fsum / float64(acc.count)
	case Min:
		return acc.min
	case Max:
		return acc.max
	case First:
		return acc.first
	case Last:
		return acc.last
	case VarPop, VarSamp, StddevPop, StddevSamp:
		n := float64(len(acc.fvals))
		samp := s.Func == VarSamp || s.Func == StddevSamp
		if n == 0 || (samp && n < 2) {
			return nil
		}
		mean := 0.0
		for _, x := range acc.fvals {
			mean += x
		}
		mean /= n
		ss := 0.0
		for _, x := range acc.fvals {
			ss += (x - mean) * (x - mean)
		}
		v := ss / n
		if samp {
			v = ss / (n - 1)
		}
		if s.Func == StddevPop || s.Func == StddevSamp {
			v = math.Sqrt(v)
		}
		return v
	}
	panic("result")
}

func floatsClose(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	d := math.Abs(a - b)
	return d <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

type aggCase struct {
	schema *arrow.Schema
	keys   []KeySpec
	aggs   []AggSpec
}

// genValueCol makes a random value column of the given kind.
func genValueCol(mem memory.Allocator, rng *rand.Rand, kind string, n int) arrow.Array {
	valid := validMask(rng, n, 0.1)
	switch kind {
	case "int64":
		v := make([]int64, n)
		for i := range v {
			v[i] = rng.Int64N(2_000_001) - 1_000_000
		}
		return columnar.BuildInt64(mem, v, valid)
	case "int32":
		v := make([]int32, n)
		for i := range v {
			v[i] = rng.Int32N(2001) - 1000
		}
		return columnar.BuildInt32(mem, v, valid)
	case "float64":
		v := make([]float64, n)
		for i := range v {
			switch rng.IntN(40) {
			case 0:
				v[i] = math.NaN()
			case 1:
				v[i] = math.Copysign(0, -1)
			case 2:
				v[i] = 0
			default:
				v[i] = rng.NormFloat64()*100 + 50
			}
		}
		return columnar.BuildFloat64(mem, v, valid)
	case "utf8":
		v := make([]string, n)
		for i := range v {
			v[i] = fmt.Sprintf("v%d", rng.IntN(60))
		}
		return columnar.BuildString(mem, v, valid)
	case "bool":
		v := make([]bool, n)
		for i := range v {
			v[i] = rng.IntN(2) == 0
		}
		return columnar.BuildBool(mem, v, valid)
	case "timestamp":
		v := make([]int64, n)
		for i := range v {
			v[i] = 1_700_000_000_000 + rng.Int64N(1_000_000)
		}
		return columnar.BuildTimestamp(mem, arrow.Millisecond, v, valid)
	}
	panic(kind)
}

// allAggs lists every aggregate applicable to each value column.
func allAggs(schema *arrow.Schema, first int) []AggSpec {
	specs := []AggSpec{{Func: CountStar}}
	for c := first; c < schema.NumFields(); c++ {
		dt := schema.Field(c).Type
		for f := Count; f <= ApproxCountDistinct; f++ {
			if _, err := f.ResultType(dt); err == nil {
				specs = append(specs, AggSpec{Func: f, Column: c})
			}
		}
		specs = append(specs, AggSpec{Func: Count, Column: c, Distinct: true})
	}
	return specs
}

type batchSet struct {
	recs []arrow.Record
	sels [][]int32
}

func (bs *batchSet) release() {
	for _, r := range bs.recs {
		r.Release()
	}
}

func genBatches(mem memory.Allocator, rng *rand.Rand, keyKinds, valKinds []string, nbatch, maxRows, card int) (*arrow.Schema, *batchSet) {
	bs := &batchSet{}
	var schema *arrow.Schema
	for b := 0; b < nbatch; b++ {
		n := rng.IntN(maxRows + 1)
		var cols []arrow.Array
		var fields []arrow.Field
		for i, k := range keyKinds {
			c := keyGens[k](mem, rng, n, card)
			cols = append(cols, c)
			fields = append(fields, arrow.Field{Name: fmt.Sprintf("k%d", i), Type: c.DataType(), Nullable: true})
		}
		for i, k := range valKinds {
			c := genValueCol(mem, rng, k, n)
			cols = append(cols, c)
			fields = append(fields, arrow.Field{Name: fmt.Sprintf("%s_%d", k, i), Type: c.DataType(), Nullable: true})
		}
		if schema == nil {
			schema = arrow.NewSchema(fields, nil)
		}
		rec := array.NewRecord(schema, cols, int64(n))
		releaseAll(cols)
		if n > 2 && rng.IntN(3) == 0 {
			// A sliced record: every column has a non-zero array offset.
			lo, hi := int64(1+rng.IntN(n/2)), int64(n-rng.IntN(n/2))
			sliced := rec.NewSlice(lo, hi)
			rec.Release()
			rec, n = sliced, int(hi-lo)
		}
		bs.recs = append(bs.recs, rec)
		var sel []int32
		if rng.IntN(3) == 0 {
			sel = []int32{}
			for r := 0; r < n; r++ {
				if rng.IntN(4) > 0 {
					sel = append(sel, int32(r))
				}
			}
		}
		bs.sels = append(bs.sels, sel)
	}
	return schema, bs
}

// reference computes the expected output rows, keyed by the rendered key.
func reference(c aggCase, bs *batchSet) map[string][]any {
	accs := map[string][]*refAcc{}
	keyArrs := make([]arrow.Array, len(c.keys))
	for b, rec := range bs.recs {
		visit := func(r int) {
			for i, k := range c.keys {
				keyArrs[i] = rec.Column(k.Column)
			}
			key := ""
			if len(c.keys) > 0 {
				key = refKey(keyArrs, r)
			}
			a := accs[key]
			if a == nil {
				a = make([]*refAcc, len(c.aggs))
				for i := range a {
					a[i] = &refAcc{}
				}
				accs[key] = a
			}
			for i, s := range c.aggs {
				var v any = int64(1)
				if s.Func != CountStar {
					v = cell(rec.Column(s.Column), r)
				}
				a[i].add(s.Func, v)
			}
		}
		if bs.sels[b] == nil {
			for r := 0; r < int(rec.NumRows()); r++ {
				visit(r)
			}
		} else {
			for _, r := range bs.sels[b] {
				visit(int(r))
			}
		}
	}
	if len(c.keys) == 0 && len(accs) == 0 {
		a := make([]*refAcc, len(c.aggs))
		for i := range a {
			a[i] = &refAcc{}
		}
		accs[""] = a
	}
	out := map[string][]any{}
	for k, a := range accs {
		row := make([]any, len(c.aggs))
		for i, s := range c.aggs {
			var in arrow.DataType = arrow.Null
			if s.Func != CountStar {
				in = c.schema.Field(s.Column).Type
			}
			row[i] = a[i].result(s, in)
		}
		out[k] = row
	}
	return out
}

// checkResult compares an emitted record with the reference rows.
func checkResult(t *testing.T, c aggCase, rec arrow.Record, want map[string][]any) {
	t.Helper()
	require.Equal(t, len(want), int(rec.NumRows()), "group count")
	nk := len(c.keys)
	keyArrs := make([]arrow.Array, nk)
	for i := range keyArrs {
		keyArrs[i] = rec.Column(i)
	}
	for r := 0; r < int(rec.NumRows()); r++ {
		key := ""
		if nk > 0 {
			key = refKey(keyArrs, r)
		}
		exp, ok := want[key]
		require.True(t, ok, "unexpected group %s", key)
		for i, s := range c.aggs {
			got := cell(rec.Column(nk+i), r)
			e := exp[i]
			label := fmt.Sprintf("group %s %s(col %d distinct=%v)", key, s.Func, s.Column, s.Distinct)
			switch {
			case s.Func == ApproxCountDistinct:
				// Exact up to hllExactMax distinct values, then within the
				// sketch's error (see hll.go).
				if e.(int64) <= hllExactMax {
					require.Equal(t, e, got, label)
				} else {
					require.InEpsilon(t, e, got, 0.05, label)
				}
			case e == nil || got == nil:
				require.Equal(t, e, got, label)
			default:
				if ef, ok := e.(float64); ok {
					require.True(t, floatsClose(ef, got.(float64)), "%s: want %v got %v", label, ef, got)
					if s.Func == Min || s.Func == Max || s.Func == First || s.Func == Last {
						require.Equal(t, math.Float64bits(ef) == math.Float64bits(got.(float64)) || (ef != ef && got.(float64) != got.(float64)), true,
							"%s: want bits %x got %x", label, math.Float64bits(ef), math.Float64bits(got.(float64)))
					}
				} else {
					require.Equal(t, e, got, label)
				}
			}
		}
	}
}

var shapes = []struct {
	name     string
	keys     []string
	vals     []string
	card     int
	nbatch   int
	maxRows  int
	parts    int
	evictAll bool
}{
	{"global", nil, []string{"int64", "float64", "utf8"}, 1, 6, 500, 3, false},
	{"global-empty", nil, []string{"int64", "float64"}, 1, 2, 0, 1, false},
	{"int64-key", []string{"int64"}, []string{"int64", "float64", "utf8", "bool", "timestamp", "int32"}, 50, 8, 700, 3, false},
	{"utf8-key", []string{"utf8"}, []string{"float64", "int64"}, 200, 8, 700, 4, false},
	{"float-key", []string{"float64"}, []string{"int64", "utf8"}, 30, 6, 500, 2, false},
	{"multi-key", []string{"utf8", "int64", "bool"}, []string{"float64", "int64"}, 12, 8, 600, 3, false},
	{"dict-key", []string{"dict"}, []string{"int64", "float64"}, 40, 6, 500, 2, false},
	{"timestamp-int32-key", []string{"timestamp", "int32"}, []string{"float64"}, 20, 6, 500, 2, false},
	{"one-group", []string{"bool"}, []string{"int64"}, 1, 4, 300, 2, false},
	{"single-row", []string{"int64"}, []string{"int64", "float64", "utf8"}, 5, 1, 1, 1, false},
	{"empty", []string{"int64"}, []string{"int64"}, 5, 3, 0, 1, false},
}

// splitSel splits the selected rows of a batch at row cut.
func splitSel(sel []int32, n, cut int) (lo, hi []int32) {
	lo, hi = []int32{}, []int32{}
	if sel == nil {
		for r := 0; r < n; r++ {
			if r < cut {
				lo = append(lo, int32(r))
			} else {
				hi = append(hi, int32(r))
			}
		}
		return lo, hi
	}
	for _, r := range sel {
		if int(r) < cut {
			lo = append(lo, r)
		} else {
			hi = append(hi, r)
		}
	}
	return lo, hi
}

func newAgg(t *testing.T, mem memory.Allocator, c aggCase) *Aggregator {
	a, err := New(mem, c.schema, c.keys, c.aggs)
	require.NoError(t, err)
	return a
}

func TestAggregatorAgainstReference(t *testing.T) {
	for si, sh := range shapes {
		for seed := uint64(0); seed < 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", sh.name, seed), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				rng := rand.New(rand.NewPCG(seed, uint64(si)))
				schema, bs := genBatches(mem, rng, sh.keys, sh.vals, sh.nbatch, sh.maxRows, sh.card)
				defer bs.release()
				c := aggCase{schema: schema}
				for i := range sh.keys {
					c.keys = append(c.keys, KeySpec{Column: i})
				}
				c.aggs = allAggs(schema, len(sh.keys))
				want := reference(c, bs)

				// One pass.
				a := newAgg(t, mem, c)
				for b, rec := range bs.recs {
					require.NoError(t, a.Update(columnar.Batch{Rec: rec, Sel: bs.sels[b]}))
				}
				rec, err := a.Emit()
				require.NoError(t, err)
				checkResult(t, c, rec, want)
				rec.Release()

				// Partials over an arbitrary split of the input (contiguous, so
				// FIRST/LAST keep arrival order: partial i's rows precede
				// partial i+1's), merged in order. Batches are also cut
				// mid-way so a batch's rows land in two partials.
				parts := make([]*Aggregator, sh.parts)
				for i := range parts {
					parts[i] = newAgg(t, mem, c)
				}
				p := 0
				for b, r := range bs.recs {
					cut := 0
					if r.NumRows() > 0 {
						cut = rng.IntN(int(r.NumRows()) + 1)
					}
					lo, hi := splitSel(bs.sels[b], int(r.NumRows()), cut)
					require.NoError(t, parts[p].Update(columnar.Batch{Rec: r, Sel: lo}))
					if rng.IntN(2) == 0 && p+1 < len(parts) {
						p++
					}
					require.NoError(t, parts[p].Update(columnar.Batch{Rec: r, Sel: hi}))
				}
				for _, p := range parts[1:] {
					require.NoError(t, parts[0].Merge(p))
				}
				rec, err = parts[0].Emit()
				require.NoError(t, err)
				checkResult(t, c, rec, want)
				rec.Release()

				// Evict half the groups: the rest are unchanged.
				if len(c.keys) > 0 && a.NumGroups() > 1 {
					var drop []uint32
					for g := 0; g < a.NumGroups(); g += 2 {
						drop = append(drop, uint32(g))
					}
					dropped, err := a.EmitGroups(drop)
					require.NoError(t, err)
					keyArrs := make([]arrow.Array, len(c.keys))
					for i := range keyArrs {
						keyArrs[i] = dropped.Column(i)
					}
					for r := 0; r < int(dropped.NumRows()); r++ {
						delete(want, refKey(keyArrs, r))
					}
					dropped.Release()
					_, err = a.Evict(drop)
					require.NoError(t, err)
					rec, err = a.Emit()
					require.NoError(t, err)
					checkResult(t, c, rec, want)
					rec.Release()
				}
				a.Reset()
				rec, err = a.Emit()
				require.NoError(t, err)
				if len(c.keys) == 0 {
					require.EqualValues(t, 1, rec.NumRows())
				} else {
					require.EqualValues(t, 0, rec.NumRows())
				}
				rec.Release()
			})
		}
	}
}

func TestAggregatorForcedCollisions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(5, 5))
	schema, bs := genBatches(mem, rng, []string{"utf8", "int64"}, []string{"int64", "float64"}, 5, 400, 30)
	defer bs.release()
	c := aggCase{schema: schema, keys: []KeySpec{{Column: 0}, {Column: 1}}, aggs: allAggs(schema, 2)}
	a := newAgg(t, mem, c)
	a.table.degradeHash = func(h uint64) uint64 { return h & 7 }
	for _, s := range a.states {
		if d, ok := s.(*countDistinctState); ok {
			d.pairs.degradeHash = func(h uint64) uint64 { return h & 3 }
		}
	}
	for b, rec := range bs.recs {
		require.NoError(t, a.Update(columnar.Batch{Rec: rec, Sel: bs.sels[b]}))
	}
	rec, err := a.Emit()
	require.NoError(t, err)
	defer rec.Release()
	checkResult(t, c, rec, reference(c, bs))
}

func TestAggregatorManyGroups(t *testing.T) {
	n := 10_000_000
	if testing.Short() {
		n = 200_000
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	a, err := New(mem, schema, []KeySpec{{Column: 0}}, []AggSpec{{Func: CountStar}, {Func: Sum, Column: 1}})
	require.NoError(t, err)
	// Every key twice, in two passes, keys scrambled by an odd multiplier.
	const batch = 1 << 16
	keys := make([]int64, batch)
	for pass := 0; pass < 2; pass++ {
		for lo := 0; lo < n; lo += batch {
			m := min(batch, n-lo)
			for i := 0; i < m; i++ {
				keys[i] = int64(uint64(lo+i) * 0x9E3779B97F4A7C15)
			}
			kc := columnar.BuildInt64(mem, keys[:m], nil)
			vals := make([]int64, m)
			for i := range vals {
				vals[i] = keys[i] >> 20
			}
			vc := columnar.BuildInt64(mem, vals, nil)
			rec := array.NewRecord(schema, []arrow.Array{kc, vc}, int64(m))
			kc.Release()
			vc.Release()
			require.NoError(t, a.Update(columnar.Batch{Rec: rec, Sel: nil}))
			rec.Release()
		}
	}
	require.Equal(t, n, a.NumGroups())
	out, err := a.Emit()
	require.NoError(t, err)
	defer out.Release()
	k := out.Column(0).(*array.Int64).Int64Values()
	cnt := out.Column(1).(*array.Int64).Int64Values()
	sum := out.Column(2).(*array.Int64)
	for g := 0; g < n; g++ {
		if cnt[g] != 2 || sum.Value(g) != 2*(k[g]>>20) {
			t.Fatalf("group %d key %d: count %d (want 2), sum %d (want %d)", g, k[g], cnt[g], sum.Value(g), 2*(k[g]>>20))
		}
	}
}

func TestAggregatorErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "sym", Type: arrow.BinaryTypes.String},
		{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
		{Name: "blob", Type: arrow.BinaryTypes.Binary},
	}, nil)
	cases := []struct {
		keys []KeySpec
		aggs []AggSpec
		want string
	}{
		{nil, []AggSpec{{Func: Sum, Column: 0}}, `SUM(sym): column "sym": SUM needs a numeric argument`},
		{nil, []AggSpec{{Func: Avg, Column: 0}}, "AVG needs a numeric argument"},
		{nil, []AggSpec{{Func: Min, Column: 2}}, "MIN does not accept binary"},
		{nil, []AggSpec{{Func: Sum, Column: 1, Distinct: true}}, "DISTINCT is supported with COUNT only"},
		{nil, []AggSpec{{Func: Sum, Column: 7}}, "column 7 out of range"},
		{[]KeySpec{{Column: 2}}, nil, `group key "blob"`},
		{[]KeySpec{{Column: 0}, {Column: 0}, {Column: 1}, {Column: 1}, {Column: 0}}, nil, "at most 4 group keys"},
	}
	for _, c := range cases {
		_, err := New(mem, schema, c.keys, c.aggs)
		require.ErrorContains(t, err, c.want)
	}

	// Integer overflow names the aggregate and column.
	s2 := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "quantity", Type: arrow.PrimitiveTypes.Int64}}, nil)
	a, err := New(mem, s2, []KeySpec{{Column: 0}}, []AggSpec{{Func: Sum, Column: 1}})
	require.NoError(t, err)
	kc := columnar.BuildInt64(mem, []int64{1, 1, 2}, nil)
	vc := columnar.BuildInt64(mem, []int64{math.MaxInt64, 1, 5}, nil)
	rec := array.NewRecord(s2, []arrow.Array{kc, vc}, 3)
	kc.Release()
	vc.Release()
	defer rec.Release()
	require.NoError(t, a.Update(columnar.Batch{Rec: rec, Sel: nil}))
	_, err = a.Emit()
	require.ErrorContains(t, err, "SUM(quantity): integer overflow")
	fine, err := a.EmitGroups([]uint32{1}) // group 2 alone fits
	require.NoError(t, err)
	require.EqualValues(t, 5, fine.Column(1).(*array.Int64).Value(0))
	fine.Release()

	// A batch of another schema is an error naming the column.
	a, err = New(mem, s2, []KeySpec{{Column: 0}}, []AggSpec{{Func: CountStar}})
	require.NoError(t, err)
	bad := columnar.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "quantity", Type: arrow.PrimitiveTypes.Int64}}, nil),
		[]arrow.Array{columnar.BuildString(mem, []string{"x"}, nil), columnar.BuildInt64(mem, []int64{1}, nil)})
	defer bad.Release()
	require.ErrorContains(t, a.Update(columnar.Batch{Rec: bad, Sel: nil}), `column "k": batch has type utf8`)
}

func TestApproxCountDistinctAccuracy(t *testing.T) {
	cards := []int{100, 1000, 10_000, 100_000, 1_000_000}
	if testing.Short() {
		cards = cards[:4]
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, card := range cards {
		for _, kind := range []string{"int64", "utf8"} {
			schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
			if kind == "utf8" {
				schema = arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.BinaryTypes.String}}, nil)
			}
			a, err := New(mem, schema, nil, []AggSpec{{Func: ApproxCountDistinct, Column: 0}})
			require.NoError(t, err)
			// Two partials merged, each value seen about twice.
			b, err := New(mem, schema, nil, []AggSpec{{Func: ApproxCountDistinct, Column: 0}})
			require.NoError(t, err)
			for lo := 0; lo < 2*card; lo += 8192 {
				m := min(8192, 2*card-lo)
				var col arrow.Array
				if kind == "int64" {
					v := make([]int64, m)
					for i := range v {
						v[i] = int64((lo + i) % card)
					}
					col = columnar.BuildInt64(mem, v, nil)
				} else {
					v := make([]string, m)
					for i := range v {
						v[i] = fmt.Sprintf("value-%d", (lo+i)%card)
					}
					col = columnar.BuildString(mem, v, nil)
				}
				rec := columnar.NewRecord(schema, []arrow.Array{col})
				target := a
				if (lo/8192)%2 == 1 {
					target = b
				}
				require.NoError(t, target.Update(columnar.Batch{Rec: rec, Sel: nil}))
				rec.Release()
			}
			require.NoError(t, a.Merge(b))
			out, err := a.Emit()
			require.NoError(t, err)
			est := out.Column(0).(*array.Int64).Value(0)
			out.Release()
			relErr := math.Abs(float64(est)-float64(card)) / float64(card)
			t.Logf("%s card=%d estimate=%d error=%.2f%%", kind, card, est, relErr*100)
			require.Less(t, relErr, 0.05, "card %d estimate %d", card, est)
		}
	}
}

func TestFuncNames(t *testing.T) {
	for f := CountStar; f <= ApproxCountDistinct; f++ {
		got, err := ParseFunc(strings.ToLower(f.String()))
		require.NoError(t, err)
		require.Equal(t, f, got)
	}
	_, err := ParseFunc("median")
	require.ErrorContains(t, err, "unknown aggregate")
	names := make([]string, 0)
	for f := CountStar; f <= ApproxCountDistinct; f++ {
		names = append(names, f.String())
	}
	require.True(t, sort.StringsAreSorted([]string{"A"}))
	require.Len(t, names, 13)
}

// TestSumIntOrderIndependent: an integer SUM fails only when its result
// does not fit in int64, however the values are split into batches,
// selections and merged partials — a running sum may leave the range and
// come back. The oracle is math/big.
func TestSumIntOrderIndependent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	rng := rand.New(rand.NewPCG(12, 34))
	big := func(ks, vs []int64, valid []bool) map[int64]*bigInt {
		want := map[int64]*bigInt{}
		for i, k := range ks {
			if want[k] == nil {
				want[k] = newBig()
			}
			if valid[i] {
				want[k].add(vs[i])
			}
		}
		return want
	}
	for trial := range 300 {
		n := 1 + rng.IntN(200)
		ks, vs, valid := make([]int64, n), make([]int64, n), make([]bool, n)
		for i := range n {
			ks[i] = int64(rng.IntN(4))
			switch rng.IntN(4) {
			case 0:
				vs[i] = math.MaxInt64 - rng.Int64N(100)
			case 1:
				vs[i] = math.MinInt64 + rng.Int64N(100)
			default:
				vs[i] = rng.Int64N(1000) - 500
			}
			valid[i] = rng.IntN(10) != 0
		}
		want := big(ks, vs, valid)
		// Split the rows over 1–3 partial aggregators, each fed in
		// batches with random selections, then merge them.
		parts := 1 + rng.IntN(3)
		aggs := make([]*Aggregator, parts)
		for p := range aggs {
			a, err := New(mem, schema, []KeySpec{{Column: 0}}, []AggSpec{{Func: Sum, Column: 1}})
			require.NoError(t, err)
			aggs[p] = a
		}
		for lo := 0; lo < n; {
			hi := min(n, lo+1+rng.IntN(40))
			kc := columnar.BuildInt64(mem, ks[lo:hi], nil)
			vc := columnar.BuildInt64(mem, vs[lo:hi], valid[lo:hi])
			rec := columnar.NewRecord(schema, []arrow.Array{kc, vc})
			var sel []int32
			if rng.IntN(2) == 0 {
				sel = []int32{}
				for r := range hi - lo {
					sel = append(sel, int32(r))
				}
			}
			require.NoError(t, aggs[rng.IntN(parts)].Update(columnar.Batch{Rec: rec, Sel: sel}))
			rec.Release()
			lo = hi
		}
		for _, o := range aggs[1:] {
			require.NoError(t, aggs[0].Merge(o))
		}
		out, err := aggs[0].Emit()
		fits := true
		for _, b := range want {
			fits = fits && b.fits()
		}
		if !fits {
			require.ErrorContains(t, err, "integer overflow", "trial %d", trial)
			continue
		}
		require.NoError(t, err, "trial %d", trial)
		kcol, vcol := out.Column(0).(*array.Int64), out.Column(1).(*array.Int64)
		require.Equal(t, len(want), out.Column(0).Len())
		for i := range kcol.Len() {
			b := want[kcol.Value(i)]
			if b.count == 0 {
				require.True(t, vcol.IsNull(i))
				continue
			}
			require.Equal(t, b.int64(), vcol.Value(i), "trial %d key %d", trial, kcol.Value(i))
		}
		out.Release()
	}
}

// bigInt is a SUM oracle: math/big's exact sum and the number of values.
type bigInt struct {
	sum   *mbig.Int
	count int
}

func newBig() *bigInt          { return &bigInt{sum: new(mbig.Int)} }
func (b *bigInt) add(v int64)  { b.sum.Add(b.sum, mbig.NewInt(v)); b.count++ }
func (b *bigInt) fits() bool   { return b.count == 0 || b.sum.IsInt64() }
func (b *bigInt) int64() int64 { return b.sum.Int64() }

// TestSumIntMergeOutOfRange: merged partials whose sum leaves int64 on the
// way and comes back give the exact result; one that stays out fails.
func TestSumIntMergeOutOfRange(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for _, c := range []struct {
		parts [][]int64 // each partial's values (one group)
		want  int64     // 0 with fail
		fail  bool
	}{
		{[][]int64{{math.MaxInt64 - 5}, {-10}}, math.MaxInt64 - 15, false},
		{[][]int64{{math.MaxInt64 - 5}, {10}, {-20}}, math.MaxInt64 - 15, false},
		{[][]int64{{math.MinInt64 + 5}, {-10}, {20}}, math.MinInt64 + 15, false},
		{[][]int64{{math.MaxInt64 - 5}, {math.MaxInt64 - 3}}, 0, true},
		{[][]int64{{math.MinInt64}, {-1}}, 0, true},
		{[][]int64{{math.MaxInt64, math.MaxInt64}, {math.MinInt64, math.MinInt64}, {-1, 2}}, -1, false},
	} {
		var aggs []*Aggregator
		for _, vs := range c.parts {
			a, err := New(mem, schema, []KeySpec{{Column: 0}}, []AggSpec{{Func: Sum, Column: 1}})
			require.NoError(t, err)
			rec := columnar.NewRecord(schema, []arrow.Array{columnar.BuildInt64(mem, make([]int64, len(vs)), nil), columnar.BuildInt64(mem, vs, nil)})
			require.NoError(t, a.Update(columnar.Batch{Rec: rec}))
			rec.Release()
			aggs = append(aggs, a)
		}
		for _, o := range aggs[1:] {
			require.NoError(t, aggs[0].Merge(o))
		}
		out, err := aggs[0].Emit()
		if c.fail {
			require.ErrorContains(t, err, "integer overflow", "%v", c.parts)
			continue
		}
		require.NoError(t, err, "%v", c.parts)
		require.Equal(t, c.want, out.Column(1).(*array.Int64).Value(0), "%v", c.parts)
		out.Release()
	}
}
