package sqlfront

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// marketData is BENCH.md's market_data schema with trade_time declared as
// the event-time column.
func marketData() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "trade_time", Type: arrow.PrimitiveTypes.Int64, Metadata: arrow.NewMetadata([]string{EventTimeKey}, []string{"true"})},
		{Name: "symbol", Type: arrow.BinaryTypes.String},
		{Name: "trader_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64},
		{Name: "quantity", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
}

func testCatalog() MapCatalog {
	return MapCatalog{
		"market_data": marketData(),
		"events": arrow.NewSchema([]arrow.Field{
			{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
			{Name: "id", Type: arrow.PrimitiveTypes.Int32},
			{Name: "score", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
			{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
			{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		}, nil),
		"dup": arrow.NewSchema([]arrow.Field{
			{Name: "Price", Type: arrow.PrimitiveTypes.Float64},
			{Name: "PRICE", Type: arrow.PrimitiveTypes.Float64},
			{Name: "price", Type: arrow.PrimitiveTypes.Int64},
			{Name: "v", Type: arrow.PrimitiveTypes.Int64},
			{Name: "v", Type: arrow.PrimitiveTypes.Int64},
		}, nil),
	}
}

func TestExplainBench(t *testing.T) {
	cat := testCatalog()
	for _, q := range benchQueries {
		t.Run(q.name, func(t *testing.T) {
			plan, err := Plan(q.sql, cat)
			require.NoError(t, err)
			require.NoError(t, validatePlan(plan.Root))
			got := plan.Explain()
			path := filepath.Join("testdata", "explain", q.name+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), got)
		})
	}
}

func requireSamePlan(t *testing.T, a, b string) {
	t.Helper()
	cat := testCatalog()
	pa, err := Plan(a, cat)
	require.NoError(t, err, a)
	pb, err := Plan(b, cat)
	require.NoError(t, err, b)
	require.Equal(t, Explain(pa.Root), Explain(pb.Root))
	require.True(t, reflect.DeepEqual(pa.Root, pb.Root), "plans differ:\n%s\n%s", Explain(pa.Root), Explain(pb.Root))
}

func TestBothSyntaxesBindAlike(t *testing.T) {
	// BENCH.md S1: standard named window vs Velostream BUFFER.
	requireSamePlan(t, benchQueries[1].sql,
		"SELECT symbol, trade_time, price, AVG(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS ma100, "+
			"MIN(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS min100, "+
			"MAX(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS max100 FROM market_data")
	// S3a: Velostream TUMBLING vs Flink TUMBLE, with and without the time column.
	velo := "SELECT symbol, window_start, COUNT(*) AS n, SUM(price * quantity) AS v FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT FINAL"
	requireSamePlan(t, velo, "SELECT symbol, window_start, COUNT(*) AS n, SUM(price * quantity) AS v FROM market_data GROUP BY symbol, TUMBLE(trade_time, INTERVAL '1' MINUTE)")
	requireSamePlan(t, velo, "SELECT symbol, window_start, COUNT(*) AS n, SUM(price * quantity) AS v FROM market_data GROUP BY symbol WINDOW TUMBLING(1m)")
	requireSamePlan(t, velo, "SELECT symbol, TUMBLE_START(trade_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS n, SUM(price * quantity) AS v FROM market_data GROUP BY symbol, TUMBLE(trade_time, INTERVAL '60' SECOND)")
	// Sliding: SLIDING(size, slide) equals Flink's HOP(slide, size).
	requireSamePlan(t, "SELECT COUNT(*) AS n FROM market_data WINDOW SLIDING(INTERVAL '10' SECOND, INTERVAL '2' SECOND)",
		"SELECT COUNT(*) AS n FROM market_data GROUP BY HOP(trade_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)")
	requireSamePlan(t, velo, "SELECT symbol, window_start, COUNT(*) AS n, SUM(price * quantity) AS v FROM market_data GROUP BY window_start, symbol, window_end, TUMBLE(trade_time, INTERVAL '1' MINUTE)")
	requireSamePlan(t, "SELECT COUNT(*) AS n FROM market_data WINDOW SESSION(30s)",
		"SELECT COUNT(*) AS n FROM market_data GROUP BY SESSION(trade_time, INTERVAL '30' SECOND)")
}

func TestWindowSpecs(t *testing.T) {
	cat := testCatalog()
	cases := []struct {
		sql  string
		want TimeWindowSpec
	}{
		{"SELECT COUNT(*) FROM market_data WINDOW TUMBLING(500ms)", TimeWindowSpec{Kind: Tumbling, TimeCol: 0, TimeName: "trade_time", TimeType: arrow.PrimitiveTypes.Int64, SizeMs: 500, SlideMs: 500}},
		{"SELECT COUNT(*) FROM market_data WINDOW SLIDING(trade_time, INTERVAL '1 minute', 10s)", TimeWindowSpec{Kind: Sliding, TimeCol: 0, TimeName: "trade_time", TimeType: arrow.PrimitiveTypes.Int64, SizeMs: 60_000, SlideMs: 10_000}},
		{"SELECT COUNT(*) FROM market_data WINDOW SESSION(INTERVAL '2' HOUR)", TimeWindowSpec{Kind: Session, TimeCol: 0, TimeName: "trade_time", TimeType: arrow.PrimitiveTypes.Int64, GapMs: 7_200_000}},
		{"SELECT id, COUNT(*) FROM events GROUP BY id, HOP(ts, 1m, 1d)", TimeWindowSpec{Kind: Sliding, TimeCol: 0, TimeName: "ts", TimeType: &arrow.TimestampType{Unit: arrow.Millisecond}, SizeMs: 86_400_000, SlideMs: 60_000}},
	}
	for _, c := range cases {
		q, err := Plan(c.sql, cat)
		require.NoError(t, err, c.sql)
		agg := findNode[*Aggregate](q.Root)
		require.NotNil(t, agg, c.sql)
		require.Equal(t, c.want, *agg.Window, c.sql)
		require.Equal(t, EmitFinal, agg.Emit)
	}
	q, err := Plan("SELECT symbol, COUNT(*) FROM market_data GROUP BY symbol EMIT CHANGES", cat)
	require.NoError(t, err)
	require.Equal(t, EmitChanges, findNode[*Aggregate](q.Root).Emit)
	require.Nil(t, findNode[*Aggregate](q.Root).Window)
}

func findNode[T Node](n Node) T {
	for n != nil {
		if t, ok := n.(T); ok {
			return t
		}
		in := n.Inputs()
		if len(in) == 0 {
			break
		}
		n = in[0]
	}
	var zero T
	return zero
}

func TestBindErrors(t *testing.T) {
	cat := testCatalog()
	cases := []struct{ sql, want string }{
		{"SELECT a FROM market_dta", `1:15: table "market_dta" not found (did you mean "market_data"?)`},
		{"SELECT a FROM nothing_like_it", `1:15: table "nothing_like_it" not found`},
		{"SELECT pric FROM market_data", `1:8: column "pric" not found in market_data (did you mean "price"?)`},
		{"SELECT symbol FROM market_data WHERE\n  quantty > 1", `2:3: column "quantty" not found in market_data (did you mean "quantity"?)`},
		{"SELECT m.price FROM market_data AS x", `1:8: unknown table or alias "m" in m.price`},
		{"SELECT mx.price FROM market_data AS m", `1:8: unknown table or alias "mx" in mx.price (did you mean "m"?)`},
		{`SELECT "pRiCe" FROM dup`, `1:8: column "pRiCe" is ambiguous: it matches "Price" and "PRICE" and "price" in dup`},
		{"SELECT v FROM dup", `1:8: column "v" is ambiguous: it matches "v" and "v" in dup`},
		{"SELECT 'abc' + 1 FROM market_data", "1:8: cannot apply + to utf8 and int64 in 'abc' + 1"},
		{"SELECT price // 2 FROM market_data", "1:8: // needs integer operands, got float64 and int64 in price // 2"},
		{"SELECT symbol FROM market_data WHERE symbol = 1", "1:38: cannot compare utf8 with int64 in symbol = 1"},
		{"SELECT symbol FROM market_data WHERE price", "1:38: WHERE must be boolean, but price is float64"},
		{"SELECT symbol FROM market_data WHERE SUM(price) > 1", "1:38: aggregate function SUM is not allowed in WHERE"},
		{"SELECT symbol FROM market_data GROUP BY SUM(price)", "1:41: aggregate functions are not allowed in GROUP BY: SUM(price)"},
		{"SELECT symbol, price FROM market_data GROUP BY symbol", "1:16: column price must appear in the GROUP BY clause or be used in an aggregate function"},
		{"SELECT symbol, COUNT(*) FROM market_data", "1:8: column symbol must appear in the GROUP BY clause or be used in an aggregate function"},
		{"SELECT *, COUNT(*) FROM market_data GROUP BY symbol, trade_time", "1:8: column trader_id (from *) must appear in the GROUP BY clause or be used in an aggregate function"},
		{"SELECT symbol FROM market_data GROUP BY symbol HAVING price > 1", "1:55: column price must appear in the GROUP BY clause or be used in an aggregate function"},
		{"SELECT SUM(MAX(price)) FROM market_data", "1:12: aggregate function calls cannot be nested: MAX(price)"},
		{"SELECT SUM(symbol) FROM market_data", "1:8: SUM needs a numeric argument, got utf8 in SUM(symbol)"},
		{"SELECT AVG(DISTINCT price) FROM market_data", "1:8: DISTINCT is supported only in COUNT, not in AVG"},
		{"SELECT SUM(*) FROM market_data", "1:8: SUM(*) is not allowed; only COUNT(*)"},
		{"SELECT FROBNICATE(price) FROM market_data", "1:8: unknown function FROBNICATE"},
		{"SELECT UPPR(symbol) FROM market_data", `1:8: unknown function UPPR (did you mean "upper"?)`},
		{"SELECT LOWER(price) FROM market_data", "1:14: LOWER argument 1 must be a string, got float64 in LOWER(price)"},
		{"SELECT ROW_NUMBER() FROM market_data", "1:8: ROW_NUMBER requires an OVER clause"},
		{"SELECT AVG(price) OVER v FROM market_data WINDOW w AS (ORDER BY trade_time)", `1:24: window "v" is not defined`},
		{"SELECT AVG(price) OVER ww FROM market_data WINDOW w AS (ORDER BY trade_time)", `1:24: window "ww" is not defined (did you mean "w"?)`},
		{"SELECT SUM(AVG(price) OVER ()) OVER () FROM market_data", "1:12: window functions cannot be nested: AVG(price) OVER ()"},
		{"SELECT symbol FROM market_data WHERE ROW_NUMBER() OVER () > 1", "1:38: window function ROW_NUMBER is not allowed in WHERE"},
		{"SELECT STDDEV_POP(price) OVER () FROM market_data", "1:8: STDDEV_POP is not supported as a window function (supported: COUNT, SUM, AVG, MIN, MAX, ROW_NUMBER, RANK, DENSE_RANK, LAG, LEAD, FIRST_VALUE, LAST_VALUE)"},
		{"SELECT LAG(price, -1) OVER () FROM market_data", "1:19: LAG offset must be a non-negative integer constant, got -1"},
		{"SELECT COUNT(*) FROM market_data WINDOW TUMBLING(symbol, 1m)", `1:50: time column "symbol" must be int64 (milliseconds) or timestamp, got utf8`},
		{"SELECT COUNT(*) FROM events WINDOW TUMBLING(1m)", `1:36: table "events" declares no event-time column; name the time column: TUMBLING(column, ...)`},
		{"SELECT COUNT(*) FROM market_data WINDOW TUMBLING(60000)", "1:50: TUMBLING expects a duration such as INTERVAL '1' MINUTE or 1m, got 60000"},
		{"SELECT COUNT(*) FROM market_data WINDOW TUMBLING(0s)", "1:50: TUMBLING duration 0s must be positive"},
		{"SELECT COUNT(*) FROM market_data GROUP BY HOP(trade_time, 1m)", "1:43: HOP takes 3 arguments: HOP(time_column, slide, size)"},
		{"SELECT COUNT(*) FROM market_data GROUP BY TUMBLE(trade_time, 1m) WINDOW TUMBLING(1m)", "1:43: a query has one time window, but TUMBLE(...) comes on top of another"},
		{"SELECT TUMBLE(trade_time, 1m) FROM market_data", "1:8: TUMBLE(...) defines a time window and is only allowed in GROUP BY"},
		{"SELECT HOP_START(trade_time, 1m, 2m), COUNT(*) FROM market_data GROUP BY TUMBLE(trade_time, 1m)", "1:8: HOP_START does not match the query's TUMBLE window"},
		{"SELECT window_start FROM market_data", `1:8: column "window_start" exists only in queries with a time window (WINDOW TUMBLING(...) or GROUP BY TUMBLE(...))`},
		{"SELECT COUNT(*) FROM market_data GROUP BY window_end", `1:43: column "window_end" exists only in queries with a time window (WINDOW TUMBLING(...) or GROUP BY TUMBLE(...))`},
		{"SELECT symbol FROM market_data GROUP BY 3", "1:41: GROUP BY position 3 is not in the select list (1..1)"},
		{"SELECT symbol FROM market_data ORDER BY 2", "1:41: ORDER BY position 2 is not in the select list (1..1)"},
		{"SELECT DISTINCT symbol FROM market_data ORDER BY price", "1:50: for SELECT DISTINCT, ORDER BY expression price must appear in the select list"},
		{"SELECT CAST(price AS BOOLEAN) FROM market_data", "1:8: cannot cast float64 to bool in CAST(price AS BOOLEAN)"},
		{"SELECT CAST(price AS MONEY) FROM market_data", "1:8: unknown type MONEY"},
		{"SELECT 9223372036854775808 FROM market_data", "1:8: integer literal 9223372036854775808 out of range for int64"},
		{"SELECT 1e999 FROM market_data", "1:8: number 1e999 out of range for float64"},
		{"SELECT TIMESTAMP '2024-13-01' FROM market_data", "1:8: malformed timestamp '2024-13-01' (want 'YYYY-MM-DD[ HH:MM:SS[.fff]]')"},
		{"SELECT ts FROM events WHERE ts > 'yesterday'", "1:29: malformed timestamp 'yesterday' (want 'YYYY-MM-DD[ HH:MM:SS[.fff]]') in ts > 'yesterday'"},
		{"SELECT name FROM events WHERE name LIKE 1", "1:31: LIKE needs strings, got utf8 and int64 in name LIKE 1"},
		{"SELECT CASE WHEN ok THEN 1 ELSE 'x' END FROM events", "1:8: cannot combine CASE results of types int64 with utf8 in CASE WHEN ok THEN 1 ELSE 'x' END"},
		{"SELECT symbol FROM market_data WITH ('partitons' = '8')", `1:38: unknown setting "partitons" (did you mean "partitions"?); known settings: allowed.lateness, channel.capacity, late.data.strategy, partitioning.strategy, partitions, watermark.max_out_of_orderness`},
		{"SELECT symbol FROM market_data WITH ('late.data.strategy' = 'dorp')", `1:38: setting "late.data.strategy" must be one of drop, warn, process, got 'dorp' (did you mean "drop"?)`},
		{"SELECT symbol FROM market_data WITH ('partitions' = '0')", `1:38: setting "partitions" must be an integer in [1, 4096], got '0'`},
		{"SELECT symbol FROM market_data WITH ('watermark.max_out_of_orderness' = 'soon')", `1:38: setting "watermark.max_out_of_orderness": malformed interval 'soon' (want e.g. '1 minute' or INTERVAL '1' MINUTE)`},
		{"SELECT symbol FROM market_data WITH ('partitions' = '2', 'PARTITIONS' = '4')", `1:58: setting "partitions" given twice`},
		{"SELECT symbol FROM market_data WITH ('partitioning.strategy' = 'hash')", "1:38: partitioning.strategy 'hash' needs a key to hash, but the query has no GROUP BY key or PARTITION BY; use 'fan_in' for global results or 'sticky'/'round_robin' for stateless queries"},
		{"SELECT symbol, COUNT(*) FROM market_data GROUP BY symbol WITH ('partitioning.strategy' = 'sticky')", "1:64: partitioning.strategy 'sticky' keeps rows in their source partition, so one group's rows would be split across partitions; it only suits stateless queries (use 'hash')"},
		{"SELECT AVG(price) OVER (PARTITION BY symbol) FROM market_data WITH ('partitioning.strategy' = 'round_robin')", "1:69: partitioning.strategy 'round_robin' spreads a PARTITION BY key's rows over partitions, but OVER windows need them in one partition in order (use 'hash')"},
		{"SELECT -(-9223372036854775808) FROM market_data", "1:8: integer overflow in -(-9223372036854775808)"},
		{"SELECT SUM(price) AS total FROM market_data WHERE total > 1", "1:8: aggregate function SUM is not allowed in WHERE"},
		{"SELECT b AS a, a AS b FROM market_data WHERE a > 1", `1:16: alias "a" refers to itself`},
	}
	for _, c := range cases {
		_, err := Plan(c.sql, cat)
		require.EqualError(t, err, c.want, c.sql)
		var e *Error
		require.True(t, errors.As(err, &e), c.sql)
		requireValidPos(t, c.sql, e)
	}
	q, err := Plan("SELECT a FROM market_dta", cat)
	require.ErrorIs(t, err, ErrUnknownTable)
	require.Nil(t, q)

	// * expands by position, even over duplicate names.
	q, err = Plan("SELECT * FROM dup", cat)
	require.NoError(t, err)
	require.Equal(t, 5, q.Root.Schema().NumFields())
	require.NoError(t, validatePlan(q.Root))
	_, err = Plan("SELECT * FROM dup GROUP BY 1, 2, 3, 4, 5", cat)
	require.EqualError(t, err, "1:28: GROUP BY position 1 refers to *")

	// An exact-case match wins over case-insensitive ones.
	q, err = Plan("SELECT price FROM dup", cat)
	require.NoError(t, err)
	require.Equal(t, "int64", q.Root.Schema().Field(0).Type.String())
}

// TestExplainQueries checks testdata/explain/queries.txt: blocks of
// "-- SQL" followed by the expected Query.Explain output (hand-checked; -update
// rewrites the outputs, keeping the SQL lines).
func TestExplainQueries(t *testing.T) {
	path := filepath.Join("testdata", "explain", "queries.txt")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out strings.Builder
	blocks := strings.Split(strings.TrimSpace(string(data)), "\n\n")
	require.NotEmpty(t, blocks)
	for _, blk := range blocks {
		sql, want, ok := strings.Cut(blk, "\n")
		require.True(t, ok && strings.HasPrefix(sql, "-- "), "malformed block %q", blk)
		sql = strings.TrimPrefix(sql, "-- ")
		q, err := Plan(sql, testCatalog())
		require.NoError(t, err, sql)
		require.NoError(t, validatePlan(q.Root), sql)
		got := q.Explain()
		fmt.Fprintf(&out, "-- %s\n%s\n", sql, got)
		if !*update {
			require.Equal(t, want+"\n", got, sql)
		}
	}
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(out.String()), 0o644))
	}
}

func TestSettingsTyped(t *testing.T) {
	q, err := Plan("SELECT symbol, COUNT(*) FROM market_data GROUP BY symbol WITH ('Watermark.Max_Out_Of_Orderness' = '5s', "+
		"'late.data.strategy' = 'PROCESS', 'partitions' = 8, 'partitioning.strategy' = 'fan_in', 'allowed.lateness' = 1500, 'channel.capacity' = '16')", testCatalog())
	require.NoError(t, err)
	s := q.Settings
	require.True(t, s.HasMaxOutOfOrderness)
	require.Equal(t, int64(5000), s.MaxOutOfOrdernessMs)
	require.True(t, s.HasAllowedLateness)
	require.Equal(t, int64(1500), s.AllowedLatenessMs)
	require.Equal(t, "process", s.LateDataStrategy)
	require.Equal(t, 8, s.Partitions)
	require.Equal(t, "fan_in", s.PartitioningStrategy)
	require.Equal(t, 16, s.ChannelCapacity)
	require.Equal(t, map[string]string{SettingMaxOutOfOrderness: "5s", SettingLateDataStrategy: "process", SettingPartitions: "8",
		SettingPartitioningStrategy: "fan_in", SettingAllowedLateness: "1500", SettingChannelCapacity: "16"}, s.Values)

	q, err = Plan("SELECT symbol FROM market_data", testCatalog())
	require.NoError(t, err)
	require.Equal(t, Settings{}, q.Settings)
	require.Equal(t, EmitFinal, q.Emit)
	require.False(t, q.ExplainOnly)

	q, err = Plan("EXPLAIN SELECT symbol FROM market_data", testCatalog())
	require.NoError(t, err)
	require.True(t, q.ExplainOnly)
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{{"5s", 5000}, {"500ms", 500}, {"1m", 60_000}, {"2h", 7_200_000}, {"1d", 86_400_000}, {"250", 250}, {"10 seconds", 10_000}, {" 1 MINUTE ", 60_000}}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got, c.in)
	}
	for _, bad := range []string{"", "-5", "5 fortnights", "5x", "1.5s", "99999999999999999d"} {
		_, err := ParseDuration(bad)
		require.Error(t, err, bad)
	}
}

func TestScanAndIndices(t *testing.T) {
	q, err := Plan("SELECT quantity, symbol FROM market_data WHERE price > 1", testCatalog())
	require.NoError(t, err)
	scan := findNode[*Scan](q.Root)
	require.Equal(t, []int{1, 3, 4}, scan.Columns, "symbol, price, quantity in table order")
	require.Equal(t, -1, scan.EventTime)
	p := q.Root.(*Project)
	require.Equal(t, 2, p.Exprs[0].(*ColRef).Index)
	require.Equal(t, 0, p.Exprs[1].(*ColRef).Index)
	cond := findNode[*Filter](q.Root).Cond.(*Binary)
	require.Equal(t, OpGt, cond.Op)
	require.Equal(t, 1, cond.L.(*ColRef).Index)
	require.Equal(t, 1.0, cond.R.(*Const).Value)

	// Case-insensitive names, quoted names keep their case for output.
	q, err = Plan(`SELECT PRICE AS "Px", "Symbol" FROM Market_Data`, testCatalog())
	require.NoError(t, err)
	require.Equal(t, "Px", q.Root.Schema().Field(0).Name)
	require.Equal(t, "Symbol", q.Root.Schema().Field(1).Name)
}

func TestWalkBound(t *testing.T) {
	q, err := Plan("SELECT CASE WHEN price > 1 THEN quantity ELSE trader_id END + LENGTH(symbol) FROM market_data", testCatalog())
	require.NoError(t, err)
	var cols []string
	WalkBound(q.Root.(*Project).Exprs[0], func(e BoundExpr) bool {
		if c, ok := e.(*ColRef); ok {
			cols = append(cols, c.String())
		}
		return true
	})
	require.Equal(t, []string{"price#2", "quantity#3", "trader_id#1", "symbol#0"}, cols)
}

func BenchmarkPlanS3a(b *testing.B) {
	cat := testCatalog()
	for i := 0; i < b.N; i++ {
		if _, err := Plan(benchQueries[4].sql, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongChains binds the longest operator chains the parser accepts in
// every context (a pathological shape for per-node work in the binder).
func TestLongChains(t *testing.T) {
	chain := "quantity" + strings.Repeat(" + quantity", maxChain-1)
	for _, sql := range []string{
		"SELECT " + chain + " FROM market_data",
		"SELECT symbol, " + chain + " FROM market_data GROUP BY symbol, " + chain,
		"SELECT symbol, SUM(" + chain + ") FROM market_data GROUP BY symbol ORDER BY " + chain + " + 1 DESC",
		"SELECT symbol FROM market_data GROUP BY symbol HAVING " + strings.Repeat("COUNT(*) > 1 AND ", maxChain-1) + "TRUE",
	} {
		q, err := Plan(sql, testCatalog())
		if strings.Contains(sql, "ORDER BY") {
			require.ErrorContains(t, err, "column quantity must appear in the GROUP BY clause", "ORDER BY key is not grouped")
			continue
		}
		require.NoError(t, err)
		require.NotEmpty(t, q.Explain())
	}
}
