package exec_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/partition"
	"github.com/velo-engine/velo/sqlfront"
	"github.com/velo-engine/velo/window"
)

// runSQLPartitioned is runSQL on n partitions through CompilePartitioned.
func runSQLPartitioned(ctx context.Context, mem memory.Allocator, tables map[string][]arrow.Record, query string, batchSize, n int) ([]arrow.Record, *arrow.Schema, exec.PartitionPlan, error) {
	q, err := sqlfront.Plan(query, catalogOf(tables))
	if err != nil {
		return nil, nil, exec.PartitionPlan{}, err
	}
	p, err := exec.CompilePartitioned(mem, q, exec.Options{BatchSize: batchSize, Partitions: n})
	if err != nil {
		return nil, nil, exec.PartitionPlan{}, err
	}
	recs := tables[strings.ToLower(p.Table())]
	src, err := array.NewRecordReader(recs[0].Schema(), recs)
	if err != nil {
		return nil, nil, p.Plan(), err
	}
	rdr := p.Run(ctx, src)
	defer rdr.Release()
	var out []arrow.Record
	for rdr.Next() {
		r := rdr.Record()
		r.Retain()
		out = append(out, r)
	}
	if err := rdr.Err(); err != nil {
		for _, r := range out {
			r.Release()
		}
		return nil, nil, p.Plan(), err
	}
	return out, rdr.Schema(), p.Plan(), nil
}

// hasOrderBy reports whether the query's plan sorts its result.
func hasOrderBy(tables map[string][]arrow.Record, query string) bool {
	q, err := sqlfront.Plan(query, catalogOf(tables))
	if err != nil {
		return false
	}
	for node := q.Root; node != nil; {
		if _, ok := node.(*sqlfront.Sort); ok {
			return true
		}
		in := node.Inputs()
		if len(in) == 0 {
			break
		}
		node = in[0]
	}
	return false
}

// asMultiset sorts the rows of a golden result (the header stays first).
func asMultiset(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 1 {
		sort.Strings(lines[1:])
	}
	return strings.Join(lines, "\n")
}

// TestPartitionedGolden runs the whole golden suite at 1, 2, 4 and 7
// partitions: the same results as the single-partition expectations, in
// the same order when the query has ORDER BY, as a multiset otherwise.
func TestPartitionedGolden(t *testing.T) {
	defer goleak.VerifyNone(t)
	files, err := filepath.Glob("testdata/*.test")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	strategies := map[string]int{}
	for _, n := range []int{1, 2, 4, 7} {
		for _, rowBatches := range []bool{false, true} {
			for _, file := range files {
				data, err := os.ReadFile(file)
				require.NoError(t, err)
				for _, c := range parseGolden(t, string(data)) {
					name := fmt.Sprintf("%s/%d/rows=%v/%d", filepath.Base(file), n, rowBatches, c.line)
					t.Run(name, func(t *testing.T) {
						runPartitionedGolden(t, file, c, n, rowBatches, strategies)
					})
				}
			}
		}
	}
	t.Logf("strategies chosen: %v", strategies)
	for _, s := range []string{"hash", "round_robin"} {
		require.Positive(t, strategies[s], "the golden suite should exercise strategy %s", s)
	}
}

// TestPartitionedGoldenRecycled runs the golden suite at 1, 2 and 7
// partitions with every float64 result of an aggregate's or time window's
// input recycled through the evaluator's buffer pool (its threshold lowered
// to one byte): a buffer reused while an operator still read it would
// change a result.
func TestPartitionedGoldenRecycled(t *testing.T) {
	defer goleak.VerifyNone(t)
	defer exec.SetPoolMinBytes(1)()
	files, err := filepath.Glob("testdata/*.test")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, n := range []int{1, 2, 7} {
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			for _, c := range parseGolden(t, string(data)) {
				t.Run(fmt.Sprintf("%s/%d/%d", filepath.Base(file), n, c.line), func(t *testing.T) {
					runPartitionedGolden(t, file, c, n, false, map[string]int{})
				})
			}
		}
	}
}

// splitRows returns the tables with every row in its own record, so that
// the rows spread over every partition.
func splitRows(tables map[string][]arrow.Record) map[string][]arrow.Record {
	out := map[string][]arrow.Record{}
	for name, recs := range tables {
		for _, r := range recs {
			for i := range r.NumRows() {
				out[name] = append(out[name], r.NewSlice(i, i+1))
			}
			r.Release()
		}
	}
	return out
}

// errorPrefix is the part of an expected error message before its first
// data-dependent character (a digit or a quote): with several partitions
// the first row to fail depends on which partition gets there first.
func errorPrefix(msg string) string {
	if i := strings.IndexAny(msg, "\"0123456789"); i >= 0 {
		return msg[:i]
	}
	return msg
}

func runPartitionedGolden(t *testing.T, file string, c goldenCase, n int, rowBatches bool, strategies map[string]int) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tables := testTables(mem)
	if rowBatches {
		tables = splitRows(tables)
	}
	defer releaseTables(tables)
	recs, schema, plan, err := runSQLPartitioned(context.Background(), mem, tables, c.sql, c.batch, n)
	if c.kind == "error" {
		require.Error(t, err, "%s:%d: expected an error for\n%s", file, c.line, c.sql)
		want := c.expected
		if n > 1 && !strings.Contains(err.Error(), want) {
			want = errorPrefix(want)
			require.NotEmpty(t, strings.TrimSpace(want), "%s:%d", file, c.line)
		}
		require.Contains(t, err.Error(), want, "%s:%d: %s", file, c.line, c.sql)
		return
	}
	require.NoError(t, err, "%s:%d: %s", file, c.line, c.sql)
	defer releaseRecs(recs)
	strategies[plan.Strategy.String()]++
	got := strings.TrimRight(formatResult(schema, recs), "\n")
	if hasOrderBy(tables, c.sql) {
		require.Equal(t, c.expected, got, "%s:%d (%s): %s", file, c.line, plan, c.sql)
	} else {
		require.Equal(t, asMultiset(c.expected), asMultiset(got), "%s:%d (%s): %s", file, c.line, plan, c.sql)
	}
}

// TestPartitionedPlan checks the planner's strategy choice and the
// 'partitioning.strategy' / 'partitions' overrides.
func TestPartitionedPlan(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tables := testTables(mem)
	defer releaseTables(tables)
	cases := []struct {
		sql  string
		want string // PartitionPlan.String(), or "error: ..." text
	}{
		{"SELECT symbol, SUM(quantity) FROM trades GROUP BY symbol", "hash(symbol) (two-phase if few groups) × 4"},
		{"SELECT symbol, price, COUNT(*) FROM trades WHERE price > 10 GROUP BY symbol, price", "hash(symbol, price) (two-phase if few groups) × 4"},
		{"SELECT COUNT(*), SUM(quantity) FROM trades", "round_robin two-phase × 4"},
		{"SELECT quantity / 10 AS k, COUNT(*) FROM trades GROUP BY quantity / 10", "round_robin two-phase × 4"},
		{"SELECT FIRST(price) FROM trades", "fan_in × 4"},
		{"SELECT symbol, price * 2 FROM trades WHERE quantity > 5", "round_robin × 4"},
		{"SELECT symbol FROM trades ORDER BY symbol LIMIT 2", "round_robin × 4"},
		{"SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WITH ('partitions' = '3')", "hash(symbol) (two-phase if few groups) × 3"},
		{"SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WITH ('partitioning.strategy' = 'fan_in')", "fan_in × 4"},
		{"SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WITH ('partitioning.strategy' = 'round_robin')", "round_robin two-phase × 4"},
		{"SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WITH ('partitioning.strategy' = 'smart')", "smart(symbol) × 4"},
		{"SELECT symbol FROM trades WITH ('partitioning.strategy' = 'sticky')", "sticky × 4"},
		{"SELECT quantity / 10 AS k, COUNT(*) FROM trades GROUP BY quantity / 10 WITH ('partitioning.strategy' = 'hash')", "error: is an expression, not an input column"},
		{"SELECT symbol, LAST(price) FROM trades GROUP BY symbol WITH ('partitioning.strategy' = 'round_robin')", "error: FIRST/LAST depend on arrival order"},
		{"SELECT symbol, AVG(price) OVER (PARTITION BY symbol ORDER BY trade_time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM trades", "hash(symbol) × 4"},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			q, err := sqlfront.Plan(c.sql, catalogOf(tables))
			require.NoError(t, err)
			p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: 4})
			if want, ok := strings.CutPrefix(c.want, "error: "); ok {
				require.Error(t, err)
				require.Contains(t, err.Error(), want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, p.Plan().String())
			// The plan runs and gives the single-partition result (the
			// trades split one row per batch, so every partition works).
			tables["trades"][0].Retain()
			tables["trades"][1].Retain()
			rows := splitRows(map[string][]arrow.Record{"trades": {tables["trades"][0], tables["trades"][1]}})
			defer releaseTables(rows)
			want, _, err := runSQL(context.Background(), mem, rows, c.sql, 2)
			require.NoError(t, err)
			defer releaseRecs(want)
			src, err := array.NewRecordReader(rows["trades"][0].Schema(), rows["trades"])
			require.NoError(t, err)
			rdr := p.Run(context.Background(), src)
			var got []arrow.Record
			for rdr.Next() {
				rdr.Record().Retain()
				got = append(got, rdr.Record())
			}
			require.NoError(t, rdr.Err())
			defer releaseRecs(got)
			require.Equal(t, asMultiset(formatResult(p.Schema(), want)), asMultiset(formatResult(p.Schema(), got)))
			rdr.Release()
		})
	}
	// The binder rejects sticky under GROUP BY with its own explanation.
	_, err := sqlfront.Plan("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WITH ('partitioning.strategy' = 'sticky')", catalogOf(tables))
	require.ErrorContains(t, err, "sticky")
	// ValidateStrategy explains a strategy that would split a key's state.
	require.ErrorContains(t, partition.ValidateStrategy(partition.RoundRobin, true, false), "two-phase")
}

// bigTable returns nrec records of rows rows each: k int64 (group key, 0..groups-1),
// v int64, g float64.
func bigTable(mem memory.Allocator, nrec, rows, groups int, seed uint64) []arrow.Record {
	r := rand.New(rand.NewPCG(seed, 1))
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
		{Name: "g", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	var out []arrow.Record
	for range nrec {
		k := make([]int64, rows)
		v := make([]int64, rows)
		g := make([]float64, rows)
		for i := range k {
			k[i] = int64(r.IntN(groups))
			v[i] = int64(r.IntN(1000))
			g[i] = float64(r.IntN(1 << 20))
		}
		out = append(out, columnar.NewRecord(schema, []arrow.Array{
			columnar.BuildInt64(mem, k, nil), columnar.BuildInt64(mem, v, nil), columnar.BuildFloat64(mem, g, nil),
		}))
	}
	return out
}

// TestPartitionedLarge compares partitioned runs of a larger table (many
// batches per partition) with a hand-computed oracle and the
// single-partition run.
func TestPartitionedLarge(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := bigTable(mem, 40, 1000, 97, 7)
	tables := map[string][]arrow.Record{"big": recs}
	defer releaseTables(tables)
	// Oracle: per-key count and sum of v, computed directly.
	count := map[int64]int64{}
	sum := map[int64]int64{}
	var rowsOver500 int64
	for _, r := range recs {
		ks := r.Column(0).(*array.Int64).Int64Values()
		vs := r.Column(1).(*array.Int64).Int64Values()
		for i, k := range ks {
			count[k]++
			sum[k] += vs[i]
			if vs[i] > 500 {
				rowsOver500++
			}
		}
	}
	var oracle []string
	for k, c := range count {
		oracle = append(oracle, strconv.FormatInt(k, 10)+" | "+strconv.FormatInt(c, 10)+" | "+strconv.FormatInt(sum[k], 10))
	}
	sort.Strings(oracle)
	for _, n := range []int{1, 2, 3, 8} {
		got, _, plan, err := runSQLPartitioned(context.Background(), mem, tables, "SELECT k, COUNT(*), SUM(v) FROM big GROUP BY k", 100, n)
		require.NoError(t, err)
		require.Equal(t, partition.Hash, plan.Strategy)
		rows := strings.Split(strings.TrimSpace(formatResult(got[0].Schema(), got)), "\n")[1:]
		sort.Strings(rows)
		require.Equal(t, oracle, rows, "%d partitions", n)
		releaseRecs(got)

		got, _, plan, err = runSQLPartitioned(context.Background(), mem, tables, "SELECT SUM(v), COUNT(*) FROM big WHERE v > 500", 100, n)
		require.NoError(t, err)
		require.True(t, plan.TwoPhase)
		require.Equal(t, "SUM(v):int64 | COUNT(*):int64\n"+strconv.FormatInt(sumOver(recs, 500), 10)+" | "+strconv.FormatInt(rowsOver500, 10), strings.TrimSpace(formatResult(got[0].Schema(), got)))
		releaseRecs(got)

		// Stateless with LIMIT and no ORDER BY: the input order is kept,
		// so the rows equal the single-partition run's exactly.
		want, _, err := runSQL(context.Background(), mem, tables, "SELECT k, v FROM big WHERE v % 7 = 3 LIMIT 250 OFFSET 10", 100)
		require.NoError(t, err)
		got, _, plan, err = runSQLPartitioned(context.Background(), mem, tables, "SELECT k, v FROM big WHERE v % 7 = 3 LIMIT 250 OFFSET 10", 100, n)
		require.NoError(t, err)
		require.True(t, plan.Ordered)
		require.Equal(t, formatResult(want[0].Schema(), want), formatResult(got[0].Schema(), got))
		releaseRecs(want)
		releaseRecs(got)
	}
}

func sumOver(recs []arrow.Record, lim int64) int64 {
	var s int64
	for _, r := range recs {
		for _, v := range r.Column(1).(*array.Int64).Int64Values() {
			if v > lim {
				s += v
			}
		}
	}
	return s
}

func releaseRecs(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// TestPartitionedErrors: an error in one partition (integer overflow in
// SUM, a bad CAST) is the query's error; no goroutine is left and every
// byte is released.
func TestPartitionedErrors(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String},
	}, nil)
	var recs []arrow.Record
	for i := range 30 {
		k := []int64{int64(i % 5), int64(i%5 + 5)}
		v := []int64{1, 2}
		s := []string{"1", "2"}
		if i == 17 {
			v = []int64{math.MaxInt64, math.MaxInt64}
			s = []string{"x", "y"}
		}
		recs = append(recs, columnar.NewRecord(schema, []arrow.Array{
			columnar.BuildInt64(mem, k, nil), columnar.BuildInt64(mem, v, nil), columnar.BuildString(mem, s, nil),
		}))
	}
	tables := map[string][]arrow.Record{"e": recs}
	defer releaseTables(tables)
	cases := []struct{ sql, want string }{
		{"SELECT k, SUM(v) FROM e GROUP BY k", "overflow"},
		{"SELECT SUM(v) FROM e", "overflow"},
		{"SELECT k, v + v FROM e", "overflow"},
		{"SELECT k, CAST(s AS BIGINT) FROM e ORDER BY k", "\"x\""},
	}
	for _, n := range []int{2, 4, 7} {
		for _, c := range cases {
			_, _, _, err := runSQLPartitioned(context.Background(), mem, tables, c.sql, 8, n)
			require.Error(t, err, "%d partitions: %s", n, c.sql)
			require.Contains(t, err.Error(), c.want, "%d partitions: %s", n, c.sql)
		}
	}
	// The partition package wraps the pipeline's error: it still matches.
	_, _, _, err := runSQLPartitioned(context.Background(), mem, tables, "SELECT k, v * 2 FROM e", 8, 4)
	require.True(t, errors.Is(err, exec.ErrOverflow), "%v", err)
}

// cancelReader yields records and cancels the context after the first few.
type cancelReader struct {
	array.RecordReader
	cancel func()
	n      int
}

func (c *cancelReader) Next() bool {
	c.n++
	if c.n == 5 {
		c.cancel()
	}
	return c.RecordReader.Next()
}

// TestPartitionedCancel cancels the context mid-query: the reader reports
// the cancellation, no goroutine is left and every byte is released.
func TestPartitionedCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := bigTable(mem, 50, 500, 1000, 3)
	defer releaseRecs(recs)
	tables := map[string][]arrow.Record{"big": recs}
	for _, query := range []string{"SELECT k, COUNT(*) FROM big GROUP BY k", "SELECT k, v FROM big WHERE v > 3", "SELECT SUM(v) FROM big"} {
		for _, n := range []int{2, 4} {
			ctx, cancel := context.WithCancel(context.Background())
			q, err := sqlfront.Plan(query, catalogOf(tables))
			require.NoError(t, err)
			p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: n, ChannelCapacity: 1})
			require.NoError(t, err)
			inner, err := array.NewRecordReader(recs[0].Schema(), recs)
			require.NoError(t, err)
			rdr := p.Run(ctx, &cancelReader{RecordReader: inner, cancel: cancel})
			for rdr.Next() {
			}
			require.ErrorIs(t, rdr.Err(), context.Canceled, "%s at %d partitions", query, n)
			rdr.Release()
			cancel()
		}
	}
	// Readers released mid-stream (many output records, a slow reader) and
	// before their first Next stop the run.
	for _, n := range []int{2, 4} {
		for _, query := range []string{"SELECT k, v FROM big", "SELECT k, COUNT(*) FROM big GROUP BY k"} {
			q, err := sqlfront.Plan(query, catalogOf(tables))
			require.NoError(t, err)
			p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: n, BatchSize: 10})
			require.NoError(t, err)
			src, err := array.NewRecordReader(recs[0].Schema(), recs)
			require.NoError(t, err)
			rdr := p.Run(context.Background(), src)
			require.True(t, rdr.Next())
			require.True(t, rdr.Next())
			rdr.Release()
		}
		q, err := sqlfront.Plan("SELECT k FROM big", catalogOf(tables))
		require.NoError(t, err)
		p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: n})
		require.NoError(t, err)
		src, err := array.NewRecordReader(recs[0].Schema(), recs)
		require.NoError(t, err)
		p.Run(context.Background(), src).Release()
	}
	// A context cancelled before the run.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, _, err := runSQLPartitioned(ctx, mem, tables, "SELECT k FROM big", 100, 3)
	require.ErrorIs(t, err, context.Canceled)
	// A second Run of the same compiled query is an error.
	q, err := sqlfront.Plan("SELECT k FROM big", catalogOf(tables))
	require.NoError(t, err)
	p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: 2})
	require.NoError(t, err)
	for i := range 2 {
		src, err := array.NewRecordReader(recs[0].Schema(), recs)
		require.NoError(t, err)
		rdr := p.Run(context.Background(), src)
		for rdr.Next() {
		}
		if i == 0 {
			require.NoError(t, rdr.Err())
		} else {
			require.ErrorContains(t, rdr.Err(), "runs once")
		}
		rdr.Release()
	}
}

// TestPartitionedDifferentialSQLite runs a subset of the SQLite
// differential queries at 2 and 4 partitions.
func TestPartitionedDifferentialSQLite(t *testing.T) {
	tablesN, queriesN := 20, 10
	if testing.Short() {
		tablesN, queriesN = 5, 6
	}
	r := rand.New(rand.NewPCG(20261127, 77))
	gen := queryGen{r: r}
	total := 0
	for ti := 0; ti < tablesN; ti++ {
		tbl := genDiffTable(r)
		db, err := sql.Open("sqlite", ":memory:")
		require.NoError(t, err)
		db.SetMaxOpenConns(1)
		stmts := tbl.sqlStatements()
		for _, s := range stmts {
			_, err := db.Exec(s)
			require.NoError(t, err, s)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		tables := map[string][]arrow.Record{"r": tbl.records(mem)}
		for qi := 0; qi < queriesN; qi++ {
			q, ordered := gen.query()
			want, err := sqliteRows(db, q)
			require.NoError(t, err, "sqlite: %s", q)
			if !ordered {
				sort.Strings(want)
			}
			for _, n := range []int{2, 4} {
				recs, _, plan, err := runSQLPartitioned(context.Background(), mem, tables, q, 1+r.IntN(20), n)
				if err != nil {
					t.Fatalf("velo failed at %d partitions: %v\nreproduce:\n%s;\n%s;", n, err, strings.Join(stmts, ";\n"), q)
				}
				got := veloRows(recs)
				releaseRecs(recs)
				if !ordered {
					sort.Strings(got)
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("mismatch at %d partitions (%s)\nreproduce:\n%s;\n%s;\nvelo:\n%s\nsqlite:\n%s", n, plan, strings.Join(stmts, ";\n"), q, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				total++
			}
		}
		releaseTables(tables)
		mem.AssertSize(t, 0)
		require.NoError(t, db.Close())
	}
	t.Logf("%d partitioned runs, zero mismatches", total)
}

// withStrategy returns query with a 'partitioning.strategy' setting
// appended, or "" when the query already sets a strategy.
func withStrategy(query, strategy string) string {
	if strings.Contains(strings.ToLower(query), "partitioning.strategy") {
		return ""
	}
	return strings.TrimRight(strings.TrimSpace(query), ";") + fmt.Sprintf(" WITH ('partitioning.strategy' = '%s')", strategy)
}

// TestPartitionedGoldenStrategies runs every golden query under every
// partitioning strategy at 2, 4 and 7 partitions: a strategy valid for the
// query gives the single-partition expectation (as a multiset unless the
// query has ORDER BY); an invalid one is an error at planning that names
// the strategy's problem, never a different result.
func TestPartitionedGoldenStrategies(t *testing.T) {
	defer goleak.VerifyNone(t)
	files, err := filepath.Glob("testdata/*.test")
	require.NoError(t, err)
	strategies := []string{"hash", "smart", "sticky", "round_robin", "fan_in"}
	valid, invalid := map[string]int{}, map[string]int{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, c := range parseGolden(t, string(data)) {
			if c.kind == "error" {
				continue
			}
			for _, strategy := range strategies {
				query := withStrategy(c.sql, strategy)
				if query == "" {
					continue
				}
				for _, n := range []int{2, 4, 7} {
					t.Run(fmt.Sprintf("%s/%d/%s/%d", filepath.Base(file), c.line, strategy, n), func(t *testing.T) {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer mem.AssertSize(t, 0)
						tables := splitRows(testTables(mem))
						defer releaseTables(tables)
						recs, schema, plan, err := runSQLPartitioned(context.Background(), mem, tables, query, c.batch, n)
						if err != nil {
							// Only planning may refuse a strategy, and it says which.
							require.Zero(t, plan.Partitions, "%s:%d under %s: run failed: %v", file, c.line, strategy, err)
							require.Contains(t, err.Error(), strategy, "%s:%d: the error should name the strategy", file, c.line)
							invalid[strategy]++
							return
						}
						defer releaseRecs(recs)
						valid[strategy]++
						got := strings.TrimRight(formatResult(schema, recs), "\n")
						if hasOrderBy(tables, c.sql) {
							require.Equal(t, c.expected, got, "%s:%d (%s): %s", file, c.line, plan, query)
						} else {
							require.Equal(t, asMultiset(c.expected), asMultiset(got), "%s:%d (%s): %s", file, c.line, plan, query)
						}
					})
				}
			}
		}
	}
	t.Logf("valid runs per strategy: %v; refused: %v", valid, invalid)
	for _, s := range strategies {
		require.Positive(t, valid[s], "some golden query should run under %s", s)
	}
	for _, s := range []string{"sticky", "round_robin"} {
		require.Positive(t, invalid[s], "some golden query should refuse %s", s)
	}
}

// appendKV appends row i's key k (one of 20 strings, NULL every 101st
// row) to field kf of rb and its value v (below 1000, NULL every 7th) to
// field vf.
func appendKV(rb *array.RecordBuilder, kf, vf, i int, rng *rand.Rand) {
	if i%101 == 0 {
		rb.Field(kf).AppendNull()
	} else {
		rb.Field(kf).(*array.StringBuilder).Append(fmt.Sprintf("key%d", rng.IntN(20)))
	}
	if i%7 == 0 {
		rb.Field(vf).AppendNull()
	} else {
		rb.Field(vf).(*array.Int64Builder).Append(rng.Int64N(1000))
	}
}

// TestPartitionedAdaptive: a hash-routed GROUP BY whose first record has
// few groups runs two-phase instead, one with many keeps hash routing, and
// both give the single-partition result.
func TestPartitionedAdaptive(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "g", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	var recs []arrow.Record
	for b := range 4 {
		rb := array.NewRecordBuilder(mem, schema)
		for i := range 4096 {
			rb.Field(1).(*array.Int64Builder).Append(int64(b*4096 + i))
			appendKV(rb, 0, 2, i, rng)
		}
		recs = append(recs, rb.NewRecord())
		rb.Release()
	}
	tables := map[string][]arrow.Record{"m": recs}
	defer releaseTables(tables)
	cases := []struct {
		sql      string
		twoPhase bool
	}{
		{"SELECT k, COUNT(*) AS n, SUM(v) AS s, AVG(v) AS a, MIN(v) AS lo, MAX(v) AS hi, COUNT(DISTINCT g) AS dg FROM m GROUP BY k", true},
		{"SELECT k, COUNT(*) AS n FROM m WHERE v > 500 GROUP BY k HAVING COUNT(*) > 10 ORDER BY k", true},
		{"SELECT g, SUM(v) AS s FROM m GROUP BY g", false},
		{"SELECT k, g % 3 AS r, COUNT(*) AS n FROM m GROUP BY k, g % 3", false}, // an expression key: two-phase by plan
	}
	for _, c := range cases {
		want, _, err := runSQL(context.Background(), mem, tables, c.sql, 4096)
		require.NoError(t, err, c.sql)
		for _, n := range []int{2, 3} {
			got, schema, plan, err := runSQLPartitioned(context.Background(), mem, tables, c.sql, 4096, n)
			require.NoError(t, err, c.sql)
			if c.twoPhase {
				require.Equal(t, fmt.Sprintf("round_robin two-phase × %d", n), plan.String(), c.sql)
			} else if plan.Strategy == partition.Hash {
				require.True(t, plan.Adaptive, "%s: %s", c.sql, plan)
			}
			if hasOrderBy(tables, c.sql) {
				require.Equal(t, formatResult(schema, want), formatResult(schema, got), c.sql)
			} else {
				require.Equal(t, asMultiset(formatResult(schema, want)), asMultiset(formatResult(schema, got)), c.sql)
			}
			releaseRecs(got)
		}
		releaseRecs(want)
	}
}

// TestPartitionedAdaptiveWindows: a keyed tumbling window (EMIT FINAL or
// CHANGES) whose first record lies within two windows, each spanning at
// most 32 records, is routed by window (records inside a window whole,
// boundary records cut per row); otherwise a keyed tumbling or sliding
// EMIT FINAL window whose first record has few groups per window
// (distinct (event time ÷ slide, keys) — at most one per 8 rows) runs
// two-phase, partial windows dealt by queue length and merged; many keys,
// or windows so short that a record spans hundreds of them, keep hash
// routing, as do sessions. Every plan gives the single-partition result,
// at 2, 3, 4 and 7 partitions.
func TestPartitionedAdaptiveWindows(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// 1 ms a row, 1 row in 50 up to 50 ms late: a record spans 4 s.
	tables := windowTable(mem, 5, 6, 4096, 1, 50, 50)
	defer releaseTables(tables)
	const aggs = "COUNT(*) AS n, SUM(v) AS s, AVG(v) AS a, MIN(v) AS lo, MAX(v) AS hi"
	const wm = " WITH ('watermark.max_out_of_orderness' = '100ms')"
	// plan: how a batch run routes the query, from its first record (4 s
	// of rows).
	cases := []struct {
		sql  string
		plan string
	}{
		// 15 records a window: each partition takes whole windows.
		{"SELECT k, window_start, " + aggs + " FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)" + wm, "window"},
		{"SELECT k, window_start, " + aggs + " FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE) EMIT CHANGES" + wm, "window"},
		{"SELECT g, " + aggs + " FROM m GROUP BY g WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)" + wm, "window"},
		// 8 s windows: 2 records each, and records cut by their boundaries.
		{"SELECT k, window_start, " + aggs + " FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '8' SECOND)" + wm, "window"},
		{"SELECT k, window_start, " + aggs + " FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '8' SECOND) EMIT CHANGES" + wm, "window"},
		// 10-minute windows span 147 records: few groups, two-phase.
		{"SELECT k, window_start, " + aggs + " FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' MINUTE)" + wm, "two-phase"},
		{"SELECT k, window_start, window_end, " + aggs + " FROM m GROUP BY k WINDOW SLIDING(ts, INTERVAL '2' SECOND, INTERVAL '1' SECOND)" + wm, "two-phase"},
		// 10 ms windows: 410 a record, 20 keys in each.
		{"SELECT k, window_start, " + aggs + " FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' MILLISECOND)" + wm, "hash"},
		{"SELECT k, window_start, " + aggs + " FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' MILLISECOND) EMIT CHANGES" + wm, "hash"},
		{"SELECT g, " + aggs + " FROM m GROUP BY g WINDOW TUMBLING(ts, INTERVAL '10' MINUTE)" + wm, "hash"},
		{"SELECT k, " + aggs + " FROM m GROUP BY k WINDOW SESSION(ts, INTERVAL '1' SECOND)" + wm, "hash"},
	}
	for _, c := range cases {
		want, _, err := runSQL(context.Background(), mem, tables, c.sql, 4096)
		require.NoError(t, err, c.sql)
		for _, n := range []int{2, 3, 4, 7} {
			got, schema, plan, err := runSQLPartitioned(context.Background(), mem, tables, c.sql, 4096, n)
			require.NoError(t, err, c.sql)
			switch c.plan {
			case "two-phase":
				require.Equal(t, fmt.Sprintf("round_robin two-phase × %d", n), plan.String(), c.sql)
			case "window":
				require.Equal(t, fmt.Sprintf("window × %d", n), plan.String(), c.sql)
			default:
				require.Equal(t, partition.Hash, plan.Strategy, "%s: %s", c.sql, plan)
			}
			require.Equal(t, asMultiset(formatResult(schema, want)), asMultiset(formatResult(schema, got)), "%s at %d", c.sql, n)
			releaseRecs(got)
		}
		releaseRecs(want)
	}
}

// windowTable is table "m" of nrec records of rows rows (seed seed): ts =
// row × step ms, one row in lateEvery moved up to maxLate ms earlier; k and
// v as appendKV; g = row.
func windowTable(mem memory.Allocator, seed uint64, nrec, rows int, step int64, lateEvery int, maxLate int64) map[string][]arrow.Record {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "g", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var recs []arrow.Record
	for b := range nrec {
		rb := array.NewRecordBuilder(mem, schema)
		for i := range rows {
			row := b*rows + i
			ts := int64(row) * step
			if rng.IntN(lateEvery) == 0 {
				ts -= rng.Int64N(maxLate)
			}
			rb.Field(0).(*array.Int64Builder).Append(ts)
			rb.Field(2).(*array.Int64Builder).Append(int64(row))
			appendKV(rb, 1, 3, i, rng)
		}
		recs = append(recs, rb.NewRecord())
		rb.Release()
	}
	return map[string][]arrow.Record{"m": recs}
}

// TestPartitionedAdaptiveWindowsLate: keyed windows that the adaptive plan
// runs two-phase or routes by window handle late rows (5 % of them up to 30 s late against a
// 1 s out-of-orderness and 2 s allowed lateness) as one partition does,
// under drop, warn and process, tumbling and sliding.
func TestPartitionedAdaptiveWindowsLate(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// 5 ms a row (10 s a record), 1 row in 20 up to 30 s late.
	tables := windowTable(mem, 7, 12, 2048, 5, 20, 30_000)
	defer releaseTables(tables)
	results := map[string]string{} // late policy → one partition's tumbling result
	for _, late := range []string{"drop", "warn", "process"} {
		for _, win := range []string{"TUMBLING(ts, INTERVAL '5' SECOND)", "SLIDING(ts, INTERVAL '10' SECOND, INTERVAL '5' SECOND)", "TUMBLING(ts, INTERVAL '1' MINUTE)"} {
			sql := "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi FROM m GROUP BY k WINDOW " + win +
				" WITH ('watermark.max_out_of_orderness' = '1s', 'allowed.lateness' = '2s', 'late.data.strategy' = '" + late + "')"
			want, wantSchema, err := runSQL(context.Background(), mem, tables, sql, 2048)
			require.NoError(t, err, sql)
			if strings.HasPrefix(win, "TUMBLING(ts, INTERVAL '5'") {
				results[late] = asMultiset(formatResult(wantSchema, want))
			}
			for _, n := range []int{2, 3} {
				got, schema, plan, err := runSQLPartitioned(context.Background(), mem, tables, sql, 2048, n)
				require.NoError(t, err, sql)
				if strings.Contains(win, "MINUTE") {
					// 6 records a window, 2 windows in the first record
					// (its late rows): routed by window.
					require.Equal(t, fmt.Sprintf("window × %d", n), plan.String(), sql)
				} else {
					require.Equal(t, fmt.Sprintf("round_robin two-phase × %d", n), plan.String(), sql)
				}
				require.Equal(t, asMultiset(formatResult(schema, want)), asMultiset(formatResult(schema, got)), "%s at %d", sql, n)
				releaseRecs(got)
			}
			releaseRecs(want)
		}
	}
	// The late rows change the result: process re-fires windows with them.
	require.Equal(t, results["drop"], results["warn"])
	require.NotEqual(t, results["drop"], results["process"])
}

// unitTable is table "m" of nrec records of rows rows with event time ts of
// type timestamp[unit] (int64 milliseconds when intMs): about 1 ms a row
// (1/256 s at second resolution), starting 30 minutes before the epoch
// (negative times), one row in 40 up to 20 s late, one in 97 with a NULL
// event time; k a string key (NULL every 101st row), g = row mod 5, v an
// int64 (NULL every 7th row).
func unitTable(mem memory.Allocator, unit arrow.TimeUnit, intMs bool, nrec, rows int) map[string][]arrow.Record {
	var tt arrow.DataType = &arrow.TimestampType{Unit: unit}
	if intMs {
		tt = arrow.PrimitiveTypes.Int64
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: tt, Nullable: true},
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "g", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	rng := rand.New(rand.NewPCG(11, 12))
	scale := map[arrow.TimeUnit]int64{arrow.Millisecond: 1, arrow.Microsecond: 1000, arrow.Nanosecond: 1_000_000}
	var recs []arrow.Record
	for b := range nrec {
		rb := array.NewRecordBuilder(mem, schema)
		for i := range rows {
			row := int64(b*rows + i)
			ms := -30*60_000 + row
			if unit == arrow.Second && !intMs {
				ms = -30*60_000 + row*1000/256
			}
			if rng.IntN(40) == 0 {
				ms -= rng.Int64N(20_000)
			}
			v := ms
			switch {
			case intMs:
			case unit == arrow.Second:
				v = columnar.FloorDiv(ms, 1000)
			default:
				v = ms * scale[unit]
			}
			switch {
			case rng.IntN(97) == 0:
				rb.Field(0).AppendNull()
			case intMs:
				rb.Field(0).(*array.Int64Builder).Append(v)
			default:
				rb.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(v))
			}
			if i%101 == 0 {
				rb.Field(1).AppendNull()
			} else {
				rb.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("key%d", rng.IntN(20)))
			}
			rb.Field(2).(*array.Int64Builder).Append(row % 5)
			if i%7 == 0 {
				rb.Field(3).AppendNull()
			} else {
				rb.Field(3).(*array.Int64Builder).Append(rng.Int64N(1000))
			}
		}
		recs = append(recs, rb.NewRecord())
		rb.Release()
	}
	return map[string][]arrow.Record{"m": recs}
}

// runCompiled runs a compiled plan over table m and returns its records,
// schema and window counters.
func runCompiled(t *testing.T, run func(context.Context, array.RecordReader) array.RecordReader, stats func() (window.Stats, bool), tables map[string][]arrow.Record) ([]arrow.Record, *arrow.Schema, window.Stats) {
	src, err := array.NewRecordReader(tables["m"][0].Schema(), tables["m"])
	require.NoError(t, err)
	rdr := run(context.Background(), src)
	var out []arrow.Record
	for rdr.Next() {
		rdr.Record().Retain()
		out = append(out, rdr.Record())
	}
	require.NoError(t, rdr.Err())
	schema := rdr.Schema()
	rdr.Release()
	st, _ := stats()
	st.Open, st.Watermark = 0, 0 // the state at the end, not a result
	return out, schema, st
}

// TestWindowRoutingMatchesOnePartition: keyed tumbling windows routed by
// event-time window give the one-partition result and window counters
// (windows, late and dropped rows, re-fired windows) at 2, 3 and 5
// partitions, for int64 milliseconds and timestamps in seconds and
// microseconds, with negative and NULL event times, late rows dropped or
// processed, a WHERE, EMIT FINAL and CHANGES, FIRST/LAST, keys with NULLs,
// no keys and expression keys (plans that would otherwise run on one
// partition) — and keep a 'channel.capacity' setting, while by default
// the partitions' queues grow to hold two windows of records.
func TestWindowRoutingMatchesOnePartition(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, c := range []struct {
		name  string
		unit  arrow.TimeUnit
		intMs bool
	}{{"int64 ms", 0, true}, {"timestamp[s]", arrow.Second, false}, {"timestamp[us]", arrow.Microsecond, false}} {
		tables := unitTable(mem, c.unit, c.intMs, 24, 4096)
		for _, tail := range []string{
			"SELECT k, window_start, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo FROM m WHERE v IS NULL OR v > 100 GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)",
			"SELECT k, window_start, COUNT(*) AS n, SUM(v) AS s FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE) EMIT CHANGES",
			"SELECT k, g, window_start, FIRST(v) AS f, LAST(v) AS l, COUNT(*) AS n FROM m GROUP BY k, g WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)",
			// Plans that would run on one partition (fan_in) without it.
			"SELECT COUNT(*) AS n, SUM(v) AS s FROM m GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE) EMIT CHANGES",
			"SELECT FIRST(v) AS f, LAST(v) AS l, COUNT(*) AS n FROM m GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
			"SELECT g % 2 AS r, COUNT(*) AS n, MAX(v) AS hi FROM m GROUP BY g % 2 WINDOW TUMBLING(ts, INTERVAL '1' MINUTE) EMIT CHANGES",
		} {
			for _, late := range []string{"drop", "process"} {
				sql := tail + " WITH ('watermark.max_out_of_orderness' = '1s', 'allowed.lateness' = '3s', 'late.data.strategy' = '" + late + "')"
				q, err := sqlfront.Plan(sql, catalogOf(tables))
				require.NoError(t, err, sql)
				one, err := exec.Compile(mem, q, exec.Options{BatchSize: 4096})
				require.NoError(t, err, sql)
				want, schema, wantSt := runCompiled(t, one.Run, one.WindowStats, tables)
				require.Positive(t, wantSt.LateRows, "%s: the data has late rows", c.name)
				for _, n := range []int{2, 3, 5} {
					p, err := exec.CompilePartitioned(mem, q, exec.Options{BatchSize: 4096, Partitions: n})
					require.NoError(t, err, sql)
					got, _, st := runCompiled(t, p.Run, p.WindowStats, tables)
					require.Equal(t, fmt.Sprintf("window × %d", n), p.Plan().String(), "%s: %s", c.name, sql)
					require.Equal(t, asMultiset(formatResult(schema, want)), asMultiset(formatResult(schema, got)), "%s: %s at %d", c.name, sql, n)
					require.Equal(t, wantSt, st, "%s: %s at %d", c.name, sql, n)
					releaseRecs(got)
				}
				releaseRecs(want)
			}
		}
		releaseTables(tables)
	}

	tables := unitTable(mem, 0, true, 8, 4096)
	defer releaseTables(tables)
	// The first record spans 24 s (its late rows): 3 records a window.
	for setting, want := range map[string]int{"": 4*3 + 8, " WITH ('channel.capacity' = '2')": 2} {
		sql := "SELECT k, window_start, COUNT(*) AS n FROM m GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)" + setting
		q, err := sqlfront.Plan(sql, catalogOf(tables))
		require.NoError(t, err)
		p, err := exec.CompilePartitioned(mem, q, exec.Options{BatchSize: 4096, Partitions: 2})
		require.NoError(t, err)
		src, err := array.NewRecordReader(tables["m"][0].Schema(), tables["m"])
		require.NoError(t, err)
		rdr := p.Run(context.Background(), src)
		for rdr.Next() {
		}
		require.NoError(t, rdr.Err())
		m := rdr.(interface{ Metrics() partition.Metrics }).Metrics()
		rdr.Release()
		require.Equal(t, "window × 2", p.Plan().String(), sql)
		require.Equal(t, want, m.Partitions[0].QueueCapacity, sql)
	}
}
