package partition_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo"
	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/partition"
)

// BenchmarkScaling is issue #7's scaling benchmark at the partition level:
// BENCH.md's S2, S2h, S3a and S3b through the engine (Execute, as velo bench
// runs them) at 1 and 2 partitions, next to the pure-CPU two-goroutine
// control measured in the same run (bench.RunRecords), once with routing on
// the reader goroutine (Routers = 1) and once with two router goroutines,
// alternating rounds so host load affects both alike. It prints velo
// bench's table per round and reports each variant's median efficiency =
// (speed-up at 2) ÷ (control speed-up) per scenario. One iteration is the
// whole measurement: run it with -benchtime 1x. VELO_SCALING_ROWS (default
// 2,000,000), VELO_SCALING_REPS (5) and VELO_SCALING_ROUNDS (2) size it.
func BenchmarkScaling(b *testing.B) {
	rows := envInt("VELO_SCALING_ROWS", 2_000_000)
	reps := envInt("VELO_SCALING_REPS", 5)
	rounds := envInt("VELO_SCALING_ROUNDS", 2)
	cfg := bench.Config{
		Scenarios:  []string{"S2", "S2h", "S3a", "S3b"},
		Rows:       int64(rows),
		Seed:       42,
		Partitions: []int{1, 2},
		Reps:       reps,
		Warmup:     1,
		BatchSize:  8192,
	}
	recs, n, err := bench.LoadData(cfg)
	require.NoError(b, err)
	defer bench.ReleaseAll(recs)
	defer func(old int) { partition.DefaultRouters = old }(partition.DefaultRouters)
	variants := []int{1, 2}
	eff := map[string][]float64{} // "routers=R/scenario" → efficiency per round
	for b.Loop() {
		for round := range rounds {
			for _, routers := range variants {
				partition.DefaultRouters = routers
				rep, err := bench.RunRecords(context.Background(), cfg, recs, n)
				require.NoError(b, err)
				require.NoError(b, rep.Failed())
				var out strings.Builder
				require.NoError(b, bench.WriteTable(&out, rep))
				fmt.Printf("--- round %d, routers=%d\n%s", round+1, routers, out.String())
				for _, r := range rep.Results {
					if r.ScalingEfficiency != nil {
						k := fmt.Sprintf("routers=%d/%s", routers, r.Scenario)
						eff[k] = append(eff[k], *r.ScalingEfficiency)
					}
				}
			}
		}
	}
	for k, xs := range eff {
		b.ReportMetric(bench.Median(xs), "eff-"+strings.ReplaceAll(k, "/", "-"))
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkScalingCPU measures what the partitioned run costs in CPU, which
// the host's load does not change much (unlike wall time on a shared
// machine): for each scenario it alternates runs at 1 and 2 partitions
// (VELO_SCALING_REPS each, after a warm-up) and reports the median process
// CPU time (user + system) per input row at each, and work = CPU at 1 ÷ CPU
// at 2. With the two cores' work perfectly overlapped, the speed-up at 2
// partitions is the control's speed-up × work, so work bounds the
// efficiency the wall-time benchmark can show. cores = CPU ÷ wall time is
// how many cores a run kept busy on average. GROUP BY scenarios without a
// window are also run two-phase ('partitioning.strategy' = 'round_robin':
// whole batches per partition, partials merged; for S3a partial windows
// completed by a merger), reported as "-2phase",
// and every scenario also with two router goroutines ("-routers2").
// "2xp1" runs two whole one-partition queries at once: what two cores
// give when nothing is split or shared but the machine (memory and caches
// included, which the pure-CPU control does not see). For GROUP BY
// trader_id (S2h), "2xsplit"/"seqsplit" and "2xsel"/"seqsel" run the hash
// plan's two halves of the groups as two one-partition queries, over
// records split before timing or over the shared records with a WHERE, at
// once and one after the other: they separate what the split of the input
// costs from what two cores beside each other cost.
// VELO_SCALING_VARIANTS (e.g. "p2") keeps p1 and the variants listed, so a
// CPU profile (-cpuprofile, one core with -cpu 1) splits into the p1 runs
// and the partitioned ones by their stacks.
func BenchmarkScalingCPU(b *testing.B) {
	rows := envInt("VELO_SCALING_ROWS", 2_000_000)
	reps := envInt("VELO_SCALING_REPS", 7)
	cfg := bench.Config{Rows: int64(rows), Seed: 42, BatchSize: 8192}
	recs, n, err := bench.LoadData(cfg)
	require.NoError(b, err)
	defer bench.ReleaseAll(recs)
	for _, id := range strings.Split(envStr("VELO_SCALING_SCENARIOS", "S2,S2h,S3a,S3b"), ",") {
		sc, err := bench.LookupScenario(id)
		require.NoError(b, err)
		b.Run(id, func(b *testing.B) {
			// A variant runs its queries at once (or, seq, one after
			// another) over rows × the table's rows in all.
			type query struct {
				eng int // benchEngines key
				sql string
			}
			type variant struct {
				name    string
				routers int
				queries []query
				seq     bool
				rows    float64
			}
			one := func(name string, eng, routers int, sql string) variant {
				return variant{name, routers, []query{{eng, sql}}, false, 1}
			}
			vs := []variant{one("p1", 1, 1, sc.SQL), one("p2", 2, 1, sc.SQL), one("p2-routers2", 2, 2, sc.SQL),
				// The ideal two-way run: two whole one-partition queries
				// at once, sharing nothing but the machine.
				{"2xp1", 1, []query{{1, sc.SQL}, {1, sc.SQL}}, false, 2},
				// Two one-partition queries at once over the even and the
				// odd records: the two-phase split without its merge (and
				// without the second reader of each record that 2xp1
				// finds in the shared L3).
				{"2xhalf", 1, []query{{halfEngine, sc.SQL}, {halfEngine + 1, sc.SQL}}, false, 1}}
			engs := benchEngines(b, recs)
			if strings.Contains(sc.SQL, "GROUP BY trader_id") {
				// The hash plan's two halves of the groups, without its
				// router: "2xsplit" runs one-partition queries at once
				// over the rows of the lower and of the upper half of the
				// trader_ids, split before timing (private records, as
				// dense as a partition's selections are sparse); "2xsel"
				// runs them over the shared records, each query selecting
				// its half of the traders with a WHERE (half-density
				// selections over every cache line of the records, as in
				// a hash partition). "seqsplit" and "seqsel" run the same
				// two queries one after the other: what the halves cost
				// without a second core beside them. Each half's predicate
				// is one comparison, which runs as one compare kernel.
				halves := [2]string{fmt.Sprintf("trader_id < %d", bench.NumTraders/2), fmt.Sprintf("trader_id >= %d", bench.NumTraders/2)}
				addSplitEngines(b, engs, halves)
				split := []query{{splitEngine, sc.SQL}, {splitEngine + 1, sc.SQL}}
				sel := []query{
					{1, strings.Replace(sc.SQL, "GROUP BY", "WHERE "+halves[0]+" GROUP BY", 1)},
					{1, strings.Replace(sc.SQL, "GROUP BY", "WHERE "+halves[1]+" GROUP BY", 1)}}
				vs = append(vs, variant{"2xsplit", 1, split, false, 1}, variant{"seqsplit", 1, split, true, 1},
					variant{"2xsel", 1, sel, false, 1}, variant{"seqsel", 1, sel, true, 1})
			}
			if !strings.Contains(sc.SQL, "EMIT CHANGES") {
				// GROUP BY and EMIT FINAL windows also run two-phase.
				vs = append(vs, one("p2-2phase", 2, 1, sc.SQL+" WITH ('partitioning.strategy' = 'round_robin')"))
			}
			if only := os.Getenv("VELO_SCALING_VARIANTS"); only != "" {
				vs = slices.DeleteFunc(vs, func(v variant) bool { return v.name != "p1" && !slices.Contains(strings.Split(only, ","), v.name) })
			}
			defer func(old int) { partition.DefaultRouters = old }(partition.DefaultRouters)
			cpu := map[string][]float64{}
			wall := map[string][]float64{}
			for b.Loop() {
				for i := range reps + 1 {
					for _, v := range vs {
						partition.DefaultRouters = v.routers
						c0, t0 := cpuTime(), time.Now()
						errs := make([]error, len(v.queries))
						var wg sync.WaitGroup
						for c, q := range v.queries {
							run := func() { _, errs[c] = bench.RunQuery(context.Background(), engs[q.eng], q.sql) }
							if v.seq {
								run()
							} else {
								wg.Go(run)
							}
						}
						wg.Wait()
						for _, err := range errs {
							require.NoError(b, err)
						}
						if i > 0 {
							rows := float64(n) * v.rows
							cpu[v.name] = append(cpu[v.name], float64(cpuTime()-c0)/rows)
							wall[v.name] = append(wall[v.name], float64(time.Since(t0))/rows)
						}
					}
				}
			}
			c1, w1 := bench.Median(cpu["p1"]), bench.Median(wall["p1"])
			b.ReportMetric(c1, "cpu-ns/row-p1")
			b.ReportMetric(c1/w1, "cores-p1")
			for _, v := range vs[1:] {
				c := bench.Median(cpu[v.name])
				b.ReportMetric(c/bench.Median(wall[v.name]), "cores-"+v.name)
				b.ReportMetric(c, "cpu-ns/row-"+v.name)
				b.ReportMetric(c1/c, "work-"+v.name)
				b.ReportMetric(w1/bench.Median(wall[v.name]), "wall-speedup-"+v.name)
			}
		})
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// BenchmarkAggSelection measures, in one binary, what S2's aggregation
// (COUNT(*), AVG, MIN, MAX of price, SUM of quantity) grouped by symbol
// (S2) and by trader_id (S2h) costs per input row over whole 8192-row
// records (one partition) and over the two selection-vector halves hash
// routing gives each record (two partitions, each half to its own
// aggregator, with the router's key hashes as routing hands them on), and
// what routing those records costs: the CPU a second partition adds
// before any parallelism.
func BenchmarkAggSelection(b *testing.B) {
	recs, n, err := bench.LoadData(bench.Config{Rows: 1 << 20, Seed: 42, BatchSize: 8192})
	require.NoError(b, err)
	defer bench.ReleaseAll(recs)
	schema := recs[0].Schema()
	col := func(name string) int { return schema.FieldIndices(name)[0] }
	for _, key := range []string{"symbol", "trader_id"} {
		b.Run(key, func(b *testing.B) { benchAggSelection(b, recs, n, key, col) })
	}
}

func benchAggSelection(b *testing.B, recs []arrow.Record, n int64, key string, col func(string) int) {
	schema := recs[0].Schema()
	newAgg := func() *agg.Aggregator {
		a, err := agg.New(memory.DefaultAllocator, schema, []agg.KeySpec{{Column: col(key)}}, []agg.AggSpec{
			{Func: agg.CountStar}, {Func: agg.Avg, Column: col("price")}, {Func: agg.Min, Column: col("price")},
			{Func: agg.Max, Column: col("price")}, {Func: agg.Sum, Column: col("quantity")},
		})
		require.NoError(b, err)
		return a
	}
	// The selection halves and key hashes: the rows whose routing hash
	// sends them to partition 0 or 1, as Source.Push cuts them.
	type routedRec struct {
		sel  [2][]int32
		keys *columnar.KeyHashes
	}
	cuts := make([]routedRec, len(recs))
	index := map[arrow.Record]int{}
	for i, r := range recs {
		index[r] = i
	}
	var mu sync.Mutex
	var routed atomic.Int64
	q, err := partition.Start(context.Background(), partition.Config{Partitions: 2, KeyColumns: []string{key}},
		func(p int) (partition.Pipeline, error) {
			return pipeFunc(func(bt columnar.Batch) {
				mu.Lock()
				defer mu.Unlock()
				c := &cuts[index[bt.Rec]]
				c.sel[p] = append([]int32(nil), bt.Sel...)
				k := *bt.Keys
				k.Hashes, k.Words = slices.Clone(k.Hashes), slices.Clone(k.Words)
				c.keys = &k
				routed.Add(int64(bt.Len()))
			}), nil
		}, func(o partition.Output) error { o.Rec.Release(); return nil })
	require.NoError(b, err)
	for _, r := range recs {
		require.NoError(b, q.Push(r))
	}
	require.NoError(b, q.Close())
	require.EqualValues(b, n, routed.Load())
	b.Run("whole-records", func(b *testing.B) {
		for b.Loop() {
			a := newAgg()
			for _, r := range recs {
				require.NoError(b, a.Update(columnar.Batch{Rec: r}))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*n), "ns/row")
	})
	b.Run("selection-halves", func(b *testing.B) {
		for b.Loop() {
			a0, a1 := newAgg(), newAgg()
			for i, r := range recs {
				c := &cuts[i]
				require.NoError(b, a0.Update(columnar.Batch{Rec: r, Sel: c.sel[0], Keys: c.keys}))
				require.NoError(b, a1.Update(columnar.Batch{Rec: r, Sel: c.sel[1], Keys: c.keys}))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*n), "ns/row")
	})
	b.Run("routing", func(b *testing.B) {
		for b.Loop() {
			q, err := partition.Start(context.Background(), partition.Config{Partitions: 2, KeyColumns: []string{key}},
				func(int) (partition.Pipeline, error) { return pipeFunc(func(columnar.Batch) {}), nil },
				func(o partition.Output) error { o.Rec.Release(); return nil })
			require.NoError(b, err)
			c0 := cpuTime()
			for _, r := range recs {
				require.NoError(b, q.Push(r))
			}
			require.NoError(b, q.Close())
			b.ReportMetric(float64(cpuTime()-c0)/float64(n), "cpu-ns/row")
		}
	})
}

// pipeFunc is a Pipeline that calls f for every batch and emits nothing.
type pipeFunc func(columnar.Batch)

func (f pipeFunc) Push(_ context.Context, b columnar.Batch, _ partition.Emitter) error {
	f(b)
	return nil
}
func (pipeFunc) Watermark(context.Context, int64, partition.Emitter) error { return nil }
func (pipeFunc) Finish(context.Context, partition.Emitter) error           { return nil }
func (pipeFunc) Close()                                                    {}

// BenchmarkKeylessWindow measures a tumbling window without GROUP BY keys
// over market_data (1-minute bars of the whole market) at one partition and
// at two, where it runs two-phase (partial windows completed by a merger)
// and, for comparison, fan_in (every row in one partition, as before
// windows had a partial form); and the same with EMIT CHANGES, which at two
// partitions is routed by window (fan_in before): median input rows/s of
// VELO_SCALING_REPS runs each, alternating. Run it with -benchtime 1x.
func BenchmarkKeylessWindow(b *testing.B) {
	rows := envInt("VELO_SCALING_ROWS", 2_000_000)
	reps := envInt("VELO_SCALING_REPS", 5)
	recs, n, err := bench.LoadData(bench.Config{Rows: int64(rows), Seed: 42, BatchSize: 8192})
	require.NoError(b, err)
	defer bench.ReleaseAll(recs)
	const sql = "SELECT window_start, COUNT(*) AS n, AVG(price) AS a, MIN(price) AS lo, MAX(price) AS hi, SUM(quantity) AS q FROM market_data GROUP BY TUMBLE(trade_time, INTERVAL '1' MINUTE)"
	vs := []struct {
		name string
		p    int
		sql  string
	}{{"p1", 1, sql}, {"p2", 2, sql}, {"p2-fan_in", 2, sql + " WITH ('partitioning.strategy' = 'fan_in')"},
		// EMIT CHANGES has no two-phase form: routed by window, or fan_in.
		{"changes-p1", 1, sql + " EMIT CHANGES"}, {"changes-p2", 2, sql + " EMIT CHANGES"},
		{"changes-p2-fan_in", 2, sql + " EMIT CHANGES WITH ('partitioning.strategy' = 'fan_in')"}}
	engs := benchEngines(b, recs)
	rate := map[string][]float64{}
	for b.Loop() {
		for range reps {
			for _, v := range vs {
				t0 := time.Now()
				_, err := bench.RunQuery(context.Background(), engs[v.p], v.sql)
				require.NoError(b, err)
				rate[v.name] = append(rate[v.name], float64(n)/time.Since(t0).Seconds()/1e6)
			}
		}
	}
	for _, v := range vs {
		b.ReportMetric(bench.Median(rate[v.name]), "Mrows/s-"+v.name)
	}
}

// benchEngines returns engines at 1 and 2 partitions (batches of 8192 rows)
// with recs registered as market_data, closed when b ends.
func benchEngines(b *testing.B, recs []arrow.Record) map[int]*velo.Engine {
	engs := map[int]*velo.Engine{}
	var halves [2][]arrow.Record
	for i, r := range recs {
		halves[i%2] = append(halves[i%2], r)
	}
	for _, key := range []int{1, 2, halfEngine, halfEngine + 1} {
		p, data := key, recs
		if key >= halfEngine {
			p, data = 1, halves[key-halfEngine]
		}
		eng := velo.New(velo.WithPartitions(p), velo.WithBatchSize(8192))
		b.Cleanup(eng.Close)
		require.NoError(b, eng.RegisterTable(bench.MarketDataTable, data))
		engs[key] = eng
	}
	return engs
}

// addSplitEngines adds to engs one-partition engines over the rows that
// match where[0] (splitEngine) and where[1] (splitEngine+1), as the
// filter of engs[1] materialises them.
func addSplitEngines(b *testing.B, engs map[int]*velo.Engine, where [2]string) {
	for k, w := range where {
		r, err := engs[1].Execute(context.Background(), "SELECT * FROM "+bench.MarketDataTable+" WHERE "+w)
		require.NoError(b, err)
		var data []arrow.Record
		for r.Next() {
			rec := r.Record()
			rec.Retain()
			data = append(data, rec)
		}
		require.NoError(b, r.Err())
		r.Release()
		b.Cleanup(func() { bench.ReleaseAll(data) })
		eng := velo.New(velo.WithPartitions(1), velo.WithBatchSize(8192))
		b.Cleanup(eng.Close)
		require.NoError(b, eng.RegisterTable(bench.MarketDataTable, data))
		engs[splitEngine+k] = eng
	}
}

// splitEngine keys addSplitEngines' engines.
const splitEngine = 102

// halfEngine keys benchEngines' one-partition engines over the even
// (halfEngine) and the odd (halfEngine+1) records.
const halfEngine = 100
