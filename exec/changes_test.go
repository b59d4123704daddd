package exec_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/sqlfront"
)

// kvRecord builds a record of (k utf8, v int64).
func kvRecord(mem memory.Allocator, k []string, v []int64) arrow.Record {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(k, nil)
	b.Field(1).(*array.Int64Builder).AppendValues(v, nil)
	return b.NewRecord()
}

// resultRows runs sql through Engine.Execute on n partitions over the
// records registered as t and renders each output row ("a|b|c") in output
// order.
func resultRows(t *testing.T, mem memory.Allocator, recs []arrow.Record, sql string, n int) []string {
	t.Helper()
	e := velo.New(velo.WithAllocator(mem), velo.WithPartitions(n))
	defer e.Close()
	require.NoError(t, e.RegisterTable("t", recs))
	rdr, err := e.Execute(context.Background(), sql)
	require.NoError(t, err)
	defer rdr.Release()
	var rows []string
	for rdr.Next() {
		rec := rdr.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for c := range cells {
				if col := rec.Column(c); col.IsNull(i) {
					cells[c] = "NULL"
				} else {
					cells[c] = col.ValueStr(i)
				}
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
	}
	require.NoError(t, rdr.Err())
	return rows
}

// TestGroupByEmitChanges: without a window, EMIT CHANGES emits after each
// batch the current row of every group the batch touched (hand-computed
// running COUNT/SUM), at 1 and 2 partitions.
func TestGroupByEmitChanges(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := []arrow.Record{
		kvRecord(mem, []string{"a", "b", "a"}, []int64{1, 2, 3}),
		kvRecord(mem, []string{"b", "b"}, []int64{10, 20}),
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, c := range []struct {
		name, sql string
		want      []string // in order at one partition
	}{
		// Batch 1 touches a (1+3) and b (2); batch 2 only b (2+10+20).
		{"keys", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k EMIT CHANGES",
			[]string{"a|2|4", "b|1|2", "b|3|32"}},
		{"final", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k EMIT FINAL",
			[]string{"a|2|4", "b|3|32"}},
		{"no emit clause", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k",
			[]string{"a|2|4", "b|3|32"}},
		{"global", "SELECT COUNT(*) AS n, SUM(v) AS s FROM t EMIT CHANGES",
			[]string{"3|6", "5|36"}},
		// Above the aggregate, HAVING filters each change (no retraction
		// when a group stops qualifying), ORDER BY sorts the whole
		// changelog at the end of the input and LIMIT counts change rows.
		{"having", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k HAVING SUM(v) > 3 EMIT CHANGES",
			[]string{"a|2|4", "b|3|32"}},
		{"order by", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k EMIT CHANGES ORDER BY s DESC",
			[]string{"b|3|32", "a|2|4", "b|1|2"}},
		{"order by limit", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k EMIT CHANGES ORDER BY k, n LIMIT 2",
			[]string{"a|2|4", "b|1|2"}},
		{"filter and projection", "SELECT k, SUM(v) * 2 AS s2 FROM t WHERE v > 1 GROUP BY k EMIT CHANGES",
			[]string{"b|4", "a|6", "b|64"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, resultRows(t, mem, recs, c.sql, 1))
			got := resultRows(t, mem, recs, c.sql, 2)
			want := slices.Clone(c.want)
			slices.Sort(got)
			slices.Sort(want)
			require.Equal(t, want, got, "2 partitions")
		})
	}
}

// TestGroupByEmitChangesPlan: a GROUP BY … EMIT CHANGES on plain keys is
// hash-partitioned; without them (global aggregate) it runs fan_in, never
// two-phase.
func TestGroupByEmitChangesPlan(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tables := testTables(mem)
	defer releaseTables(tables)
	for _, c := range []struct{ sql, want string }{
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT CHANGES", "hash(symbol) × 4"},
		{"SELECT COUNT(*) AS n FROM trades EMIT CHANGES", "fan_in × 4"},
		{"SELECT COUNT(*) AS n FROM trades", "round_robin two-phase × 4"},
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol EMIT CHANGES WITH ('partitioning.strategy' = 'round_robin')", "error: EMIT CHANGES does not support"},
	} {
		t.Run(c.sql, func(t *testing.T) {
			q, err := sqlfront.Plan(c.sql, catalogOf(tables))
			require.NoError(t, err)
			plan, err := exec.PlanPartitions(q, exec.Options{Partitions: 4})
			if want, ok := strings.CutPrefix(c.want, "error: "); ok {
				require.ErrorContains(t, err, want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, plan.String())
		})
	}
}

// TestGroupByEmitChangesMarketData: over market_data, the last change of
// each group equals its EMIT FINAL row (as multisets), at 1 and 2
// partitions, and the changelog has one row per (batch, touched group).
func TestGroupByEmitChangesMarketData(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: 50_000, Seed: 42, BatchSize: 4096})
	recs, err := g.GenerateAll()
	g.Release()
	require.NoError(t, err)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	// touched is the hand count of (batch, symbol) pairs: the changelog's
	// row count.
	touched := 0
	for _, r := range recs {
		syms := map[string]bool{}
		col := r.Column(r.Schema().FieldIndices("symbol")[0]).(*array.String)
		for i := 0; i < col.Len(); i++ {
			syms[col.Value(i)] = true
		}
		touched += len(syms)
	}
	const sel = "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, MIN(price) AS lo, MAX(price) AS hi, AVG(price) AS avg_price FROM t GROUP BY symbol"
	for _, n := range []int{1, 2} {
		changes := resultRows(t, mem, recs, sel+" EMIT CHANGES", n)
		final := resultRows(t, mem, recs, sel+" EMIT FINAL", n)
		require.Len(t, changes, touched, "%d partitions", n)
		last := map[string]string{}
		for _, row := range changes {
			last[row[:strings.IndexByte(row, '|')]] = row
		}
		var got []string
		for _, row := range last {
			got = append(got, row)
		}
		slices.Sort(got)
		slices.Sort(final)
		require.NotEmpty(t, final)
		require.Equal(t, final, got, "%d partitions", n)
	}
}
