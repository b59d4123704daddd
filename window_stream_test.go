package velo_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/sqlfront"
)

// This file checks issue #6's batch ≡ stream acceptance over every time-window
// query of the golden suite (exec/testdata/*.test): Execute over the rows in
// event-time order, Start fed the same rows out of order (never by more
// than the query's max out-of-orderness, so no row is late) in pushes of 1
// to 10,000 rows, at 1, 2, 4 and 7 partitions. The golden tables are a
// handful of rows, so the queries run over larger generated tables of the
// same schemas (trades and t, exec/harness_test.go). Float values are
// multiples of 1/4 small enough that every sum is exact in any order.

// wsGoldenQueries returns the SQL of every "query" case of the golden files.
func wsGoldenQueries(t *testing.T) []string {
	files, err := filepath.Glob("exec/testdata/*.test")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		lines := strings.Split(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			kind := strings.Fields(l)[0]
			var sql []string
			for i++; i < len(lines) && lines[i] != "----"; i++ {
				sql = append(sql, lines[i])
			}
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
				i++ // the expected output
			}
			if kind == "query" {
				out = append(out, strings.Join(sql, "\n"))
			}
		}
	}
	return out
}

// wsWindowKind returns the time window of sql's plan ("" when it has none).
func wsWindowKind(t *testing.T, cat sqlfront.Catalog, sql string) string {
	q, err := sqlfront.Plan(sql, cat)
	if err != nil {
		return "" // the error cases of the golden files
	}
	for node := q.Root; ; {
		if a, ok := node.(*sqlfront.Aggregate); ok && a.Window != nil {
			return a.Window.Kind.String()
		}
		in := node.Inputs()
		if len(in) != 1 {
			return ""
		}
		node = in[0]
	}
}

// wsTable is a generated table: its rows in event-time order (the input of
// Execute) and in an arrival order that is at most ooo ms out of order.
type wsTable struct {
	name     string
	ordered  arrow.Record
	arrivals arrow.Record
}

func (w *wsTable) release() {
	w.ordered.Release()
	w.arrivals.Release()
}

// wsEventTimes returns n increasing event times from base: steps of 0 to
// 400 ms, and every few hundred rows a gap of 15 to 70 s (sessions end).
func wsEventTimes(rng *rand.Rand, n int, base int64) []int64 {
	ts := make([]int64, n)
	t := base
	for i := range ts {
		t += rng.Int64N(401)
		if rng.IntN(300) == 0 {
			t += 15_000 + rng.Int64N(55_001)
		}
		ts[i] = t
	}
	return ts
}

// wsArrivalOrder returns a permutation of rows: row i with event time ts[i]
// (NULL: valid[i] false, it keeps the time of the row before it) arrives
// in the order of ts[i] + d, d uniform in [0, ooo]. A row then arrives
// after rows that are at most ooo later than it, so it is never below the
// watermark (max event time seen − ooo).
func wsArrivalOrder(rng *rand.Rand, ts []int64, valid []bool, ooo int64) []int {
	key := make([]int64, len(ts))
	last := int64(0)
	for i := range ts {
		if valid == nil || valid[i] {
			last = ts[i]
		}
		key[i] = last + rng.Int64N(ooo+1)
	}
	perm := make([]int, len(ts))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return int(key[a] - key[b]) })
	return perm
}

func wsPermute[T any](v []T, perm []int) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, p := range perm {
		out[i] = v[p]
	}
	return out
}

func wsValid(rng *rand.Rand, n, nullPer100 int) []bool {
	v := make([]bool, n)
	for i := range v {
		v[i] = rng.IntN(100) >= nullPer100
	}
	return v
}

// wsTrades generates n rows of the golden trades schema.
func wsTrades(mem memory.Allocator, rng *rand.Rand, n int, ooo int64) *wsTable {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "trade_time", Type: arrow.PrimitiveTypes.Int64},
		{Name: "symbol", Type: arrow.BinaryTypes.String},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64},
		{Name: "quantity", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	tt := wsEventTimes(rng, n, 1_700_000_000_000)
	sym, px, qty := make([]string, n), make([]float64, n), make([]int64, n)
	for i := range n {
		sym[i] = []string{"AAA", "BBB", "CCC", "DDD", "EEE"}[rng.IntN(5)]
		px[i] = float64(40+rng.IntN(4000)) / 4
		qty[i] = 1 + rng.Int64N(1000)
	}
	build := func(perm []int) arrow.Record {
		if perm != nil {
			return columnar.NewRecord(schema, []arrow.Array{columnar.BuildInt64(mem, wsPermute(tt, perm), nil),
				columnar.BuildString(mem, wsPermute(sym, perm), nil), columnar.BuildFloat64(mem, wsPermute(px, perm), nil),
				columnar.BuildInt64(mem, wsPermute(qty, perm), nil)})
		}
		return columnar.NewRecord(schema, []arrow.Array{columnar.BuildInt64(mem, tt, nil), columnar.BuildString(mem, sym, nil),
			columnar.BuildFloat64(mem, px, nil), columnar.BuildInt64(mem, qty, nil)})
	}
	return &wsTable{name: "trades", ordered: build(nil), arrivals: build(wsArrivalOrder(rng, tt, nil, ooo))}
}

// wsT generates n rows of the golden t schema; ts is NULL in 5 % of rows.
func wsT(mem memory.Allocator, rng *rand.Rand, n int, ooo int64) *wsTable {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "n32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	id, iv, fv, sv, bv, n32 := make([]int64, n), make([]int64, n), make([]float64, n), make([]string, n), make([]bool, n), make([]int32, n)
	for r := range n {
		id[r], iv[r], fv[r] = int64(r+1), rng.Int64N(100)-50, float64(rng.IntN(400)-200)/4
		sv[r], bv[r], n32[r] = []string{"apple", "Banana", "día_ñ", ""}[rng.IntN(4)], rng.IntN(2) == 0, rng.Int32N(1000)
	}
	ts := wsEventTimes(rng, n, 1_704_067_200_000) // 2024-01-01
	iok, fok, sok, bok, tsok, nok := wsValid(rng, n, 10), wsValid(rng, n, 10), wsValid(rng, n, 10), wsValid(rng, n, 10), wsValid(rng, n, 5), wsValid(rng, n, 10)
	build := func(perm []int) arrow.Record {
		p := func(v []bool) []bool {
			if perm == nil {
				return v
			}
			return wsPermute(v, perm)
		}
		pick := func(v []int64) []int64 {
			if perm == nil {
				return v
			}
			return wsPermute(v, perm)
		}
		f, s, i32 := fv, sv, n32
		if perm != nil {
			f, s, i32 = wsPermute(fv, perm), wsPermute(sv, perm), wsPermute(n32, perm)
		}
		return columnar.NewRecord(schema, []arrow.Array{
			columnar.BuildInt64(mem, pick(id), nil), columnar.BuildInt64(mem, pick(iv), p(iok)),
			columnar.BuildFloat64(mem, f, p(fok)), columnar.BuildString(mem, s, p(sok)),
			columnar.BuildBool(mem, p(bv), p(bok)), columnar.BuildTimestamp(mem, arrow.Millisecond, pick(ts), p(tsok)),
			columnar.BuildInt32(mem, i32, p(nok)),
		})
	}
	return &wsTable{name: "t", ordered: build(nil), arrivals: build(wsArrivalOrder(rng, ts, tsok, ooo))}
}

// wsChunks cuts rec into zero-copy slices of size rows (retained).
func wsChunks(rec arrow.Record, size int64) []arrow.Record {
	var out []arrow.Record
	for lo := int64(0); lo < rec.NumRows(); lo += size {
		out = append(out, rec.NewSlice(lo, min(lo+size, rec.NumRows())))
	}
	return out
}

// wsExecute runs sql through Execute over tables and returns its rows.
func wsExecute(t *testing.T, mem memory.Allocator, tables []*wsTable, n int, sql string) []string {
	t.Helper()
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(n))
	defer eng.Close()
	for _, tb := range tables {
		chunks := wsChunks(tb.ordered, 4096)
		require.NoError(t, eng.RegisterTable(tb.name, chunks))
		for _, c := range chunks {
			c.Release()
		}
	}
	r, err := eng.Execute(context.Background(), sql)
	require.NoError(t, err)
	defer r.Release()
	var rows []string
	for r.Next() {
		rows = append(rows, wsRows(r.Record())...)
	}
	require.NoError(t, r.Err())
	return rows
}

// wsStart runs sql through Start, pushing tb's arrivals in slices of 1 to
// 10,000 rows (wsBatchSize), and returns the rows the sink received.
func wsStart(t *testing.T, mem memory.Allocator, tb *wsTable, n int, sql string, rng *rand.Rand) []string {
	t.Helper()
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(n))
	defer eng.Close()
	var rows []string
	q, err := eng.Start(context.Background(), sql, func(rec arrow.Record) error {
		rows = append(rows, wsRows(rec)...)
		rec.Release()
		return nil
	}, velo.WithInputSchema(tb.arrivals.Schema()))
	require.NoError(t, err)
	for lo := int64(0); lo < tb.arrivals.NumRows(); {
		hi := min(lo+wsBatchSize(rng), tb.arrivals.NumRows())
		s := tb.arrivals.NewSlice(lo, hi)
		err := q.Push(s)
		s.Release()
		require.NoError(t, err)
		lo = hi
	}
	require.NoError(t, q.Close())
	return rows
}

// wsBatchSize draws a push size in [1, 10,000] rows, log-uniformly so that
// small pushes (many watermark steps) are as common as large ones.
func wsBatchSize(rng *rand.Rand) int64 {
	return min(10_000, int64(math.Exp(rng.Float64()*math.Log(10_001))))
}

// wsRows renders each row of rec as its cells joined by "|".
func wsRows(rec arrow.Record) []string {
	rows := make([]string, rec.NumRows())
	for i := range rows {
		cells := make([]string, rec.NumCols())
		for c := range cells {
			if col := rec.Column(c); col.IsNull(i) {
				cells[c] = "NULL"
			} else {
				cells[c] = col.ValueStr(i)
			}
		}
		rows[i] = strings.Join(cells, "|")
	}
	return rows
}

var (
	wsGroupBy = regexp.MustCompile(`(?is)\bGROUP\s+BY\s+(.*?)(\s+WINDOW\s|\s+HAVING\s|\s+ORDER\s|\s+LIMIT\s|\s+EMIT\s|\s+WITH\s|$)`)
	wsTimeFn  = regexp.MustCompile(`(?i)^(TUMBLE|HOP|SESSION)\s*\(`)
)

// wsKeyed rewrites a windowed query so that each result row names its
// (group, window): the GROUP BY keys, window_start and window_end first.
// It returns the query and the number of leading key columns.
func wsKeyed(sql string) (string, int) {
	var keys []string
	if m := wsGroupBy.FindStringSubmatch(sql); m != nil {
		depth, start := 0, 0
		items := []string{}
		for i, r := range m[1] {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			case ',':
				if depth == 0 {
					items = append(items, m[1][start:i])
					start = i + 1
				}
			}
		}
		items = append(items, m[1][start:])
		for _, it := range items {
			if it = strings.TrimSpace(it); !wsTimeFn.MatchString(it) {
				keys = append(keys, it)
			}
		}
	}
	var pre []string
	for i, k := range keys {
		pre = append(pre, fmt.Sprintf("%s AS gk%d__", k, i))
	}
	pre = append(pre, "window_start AS ws__", "window_end AS we__")
	body := strings.TrimSpace(sql)[len("SELECT"):]
	return "SELECT " + strings.Join(pre, ", ") + "," + body, len(keys) + 2
}

// TestWindowBatchEqualsStream is issue #6's batch ≡ stream acceptance over
// the golden suite's time-window queries (see the top of this file): EMIT
// FINAL through Start gives exactly Execute's rows (in order when the query
// has ORDER BY), and the last EMIT CHANGES row of each (window, group) is
// the FINAL row.
func TestWindowBatchEqualsStream(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const ooo = 5000 // the default max out-of-orderness; the golden queries set none
	rows := 30_000
	if testing.Short() {
		rows = 8_000
	}
	rng := rand.New(rand.NewPCG(6, 7))
	tables := []*wsTable{wsTrades(mem, rng, rows, ooo), wsT(mem, rng, rows/3, ooo)}
	defer func() {
		for _, tb := range tables {
			tb.release()
		}
	}()
	cat := sqlfront.MapCatalog{}
	for _, tb := range tables {
		cat[tb.name] = tb.ordered.Schema()
		// The arrivals are out of order, by up to (and close to) ooo.
		col := tb.arrivals.Column(tb.arrivals.Schema().FieldIndices(map[string]string{"trades": "trade_time", "t": "ts"}[tb.name])[0])
		ts, err := columnar.TimeValues(col)
		require.NoError(t, err)
		maxSeen, inversions, lag := int64(math.MinInt64), 0, int64(0)
		for i, v := range ts[:col.Len()] {
			if col.IsNull(i) {
				continue
			}
			if v < maxSeen {
				inversions++
				lag = max(lag, maxSeen-v)
			}
			maxSeen = max(maxSeen, v)
		}
		require.Greater(t, inversions, col.Len()/10, tb.name)
		require.LessOrEqual(t, lag, int64(ooo), tb.name)
		require.Greater(t, lag, int64(ooo/2), tb.name)
	}
	kinds, strategies := map[string]int{}, map[string]int{}
	for _, sql := range wsGoldenQueries(t) {
		kind := wsWindowKind(t, cat, sql)
		if kind == "" {
			continue
		}
		kinds[kind]++
		tb := wsTableOf(tables, sql, cat)
		require.NotNil(t, tb, sql)
		upper := strings.ToUpper(sql)
		ordered := strings.Contains(upper, "ORDER BY")
		t.Run(sql, func(t *testing.T) {
			want := wsExecute(t, mem, tables, 1, sql)
			if !ordered {
				slices.Sort(want)
			}
			// A query whose result stage keeps only some changes (HAVING,
			// ORDER BY, LIMIT) has no last-change-per-window check.
			changes := !strings.Contains(upper, "HAVING") && !ordered && !strings.Contains(upper, "LIMIT")
			var keyed string
			var nkey int
			var keyedWant []string
			if changes {
				keyed, nkey = wsKeyed(strings.Replace(sql, " EMIT FINAL", "", 1))
				keyedWant = wsExecute(t, mem, tables, 1, keyed)
				require.Len(t, keyedWant, len(want))
			}
			for _, n := range []int{1, 2, 4, 7} {
				if n > 1 {
					got := wsExecute(t, mem, tables, n, sql)
					if !ordered {
						slices.Sort(got)
					}
					require.Equal(t, want, got, "Execute on %d partitions", n)
				}
				for seed := range uint64(2) {
					rng := rand.New(rand.NewPCG(seed, uint64(n)))
					got := wsStart(t, mem, tb, n, sql, rng)
					if !ordered {
						slices.Sort(got)
					}
					require.Equal(t, want, got, "Start EMIT FINAL on %d partitions, seed %d", n, seed)
					if !changes {
						continue
					}
					chg := wsStart(t, mem, tb, n, keyed+" EMIT CHANGES", rng)
					wsCheckChanges(t, keyedWant, chg, nkey, kind == "SESSION")
				}
			}
			// Every other partitioning strategy the query accepts gives the
			// same rows too, batch and stream; the others are refused at
			// planning with an error naming the strategy.
			for _, strategy := range []string{"smart", "sticky", "round_robin", "fan_in"} {
				q := wsWithSetting(sql, "partitioning.strategy", strategy)
				if _, err := wsPlanPartitions(cat, q); err != nil {
					require.ErrorContains(t, err, strategy, q)
					continue
				}
				strategies[strategy]++
				got := wsExecute(t, mem, tables, 4, q)
				if !ordered {
					slices.Sort(got)
				}
				require.Equal(t, want, got, "Execute under %s", strategy)
				got = wsStart(t, mem, tb, 4, q, rand.New(rand.NewPCG(9, 4)))
				if !ordered {
					slices.Sort(got)
				}
				require.Equal(t, want, got, "Start EMIT FINAL under %s", strategy)
			}
		})
	}
	t.Logf("time-window queries by kind: %v; run under other strategies: %v", kinds, strategies)
	require.Positive(t, strategies["fan_in"], "fan_in is valid for time windows")
	for _, k := range []string{"TUMBLING", "SLIDING", "SESSION"} {
		require.Positive(t, kinds[k], "the golden suite has %s windows", k)
	}
}

// wsTableOf returns the generated table sql reads.
func wsTableOf(tables []*wsTable, sql string, cat sqlfront.Catalog) *wsTable {
	q, err := sqlfront.Plan(sql, cat)
	if err != nil {
		return nil
	}
	for node := q.Root; ; node = node.Inputs()[0] {
		if s, ok := node.(*sqlfront.Scan); ok {
			for _, tb := range tables {
				if strings.EqualFold(tb.name, s.Table) {
					return tb
				}
			}
			return nil
		}
	}
}

// wsCheckChanges checks a changelog against the FINAL rows (both with nkey
// leading (group, window) columns): the last change of every final
// (window, group) is its final row. Sessions that merged leave the rows of
// the absorbed sessions behind (there are no retractions): each such
// (window, group) must lie inside a final session of its group.
func wsCheckChanges(t *testing.T, final, changes []string, nkey int, sessions bool) {
	t.Helper()
	split := func(row string) (string, []string) {
		cells := strings.Split(row, "|")
		return strings.Join(cells[:nkey], "|"), cells
	}
	last := map[string]string{}
	for _, r := range changes {
		k, _ := split(r)
		last[k] = r
	}
	finalKeys := map[string]bool{}
	for _, r := range final {
		k, _ := split(r)
		finalKeys[k] = true
		require.Equal(t, r, last[k], "last change of (group, window) %s", k)
	}
	for k, r := range last {
		if finalKeys[k] {
			continue
		}
		require.True(t, sessions, "change of a (group, window) with no final row: %s", r)
		_, cells := split(r)
		group := strings.Join(cells[:nkey-2], "|")
		inside := false
		for _, f := range final {
			_, fc := split(f)
			if strings.Join(fc[:nkey-2], "|") == group && wsLE(fc[nkey-2], cells[nkey-2]) && wsLE(cells[nkey-1], fc[nkey-1]) {
				inside = true
				break
			}
		}
		require.True(t, inside, "absorbed session %s lies inside a final session of its group", r)
	}
}

// wsLE compares two rendered int64 values (timestamps: as text).
func wsLE(a, b string) bool {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA != nil || errB != nil {
		return a <= b
	}
	return x <= y
}

// wsWithSetting adds the setting key = value to sql's WITH clause, or
// appends one.
func wsWithSetting(sql, key, value string) string {
	setting := fmt.Sprintf("'%s' = '%s'", key, value)
	if i := strings.Index(strings.ToUpper(sql), "WITH ("); i >= 0 {
		return sql[:i+len("WITH (")] + setting + ", " + sql[i+len("WITH ("):]
	}
	return strings.TrimRight(strings.TrimSpace(sql), ";") + " WITH (" + setting + ")"
}

// wsPlanPartitions plans sql and its partitioned execution on 4 partitions.
func wsPlanPartitions(cat sqlfront.Catalog, sql string) (exec.PartitionPlan, error) {
	q, err := sqlfront.Plan(sql, cat)
	if err != nil {
		return exec.PartitionPlan{}, err
	}
	return exec.PlanPartitions(q, exec.Options{Partitions: 4})
}
