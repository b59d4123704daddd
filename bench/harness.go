package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// Result statuses.
const (
	// StatusOK marks a measured scenario.
	StatusOK = "ok"
	// StatusUnsupported marks a scenario the engine refused to plan or
	// compile (its Error says why); it carries no numbers.
	StatusUnsupported = "unsupported"
	// StatusError marks a scenario that failed while running.
	StatusError = "error"
)

// Why a result carries no latency percentiles (LatencyNote).
const (
	// LatencyAtEndOnly: in continuous mode this query's results arrive only
	// at end of input (plain GROUP BY, OVER), so "batch pushed → its results
	// emitted" is not defined.
	LatencyAtEndOnly = "not applicable: in continuous mode this query's results arrive only at end of input"
	// LatencyOnePartition: latency is measured at one partition, where Push
	// runs the pipeline synchronously and returns once the batch's results
	// reached the sink; with more partitions Push returns before that.
	LatencyOnePartition = "measured at 1 partition only"
)

// streamsPerBatch reports whether a scenario's results follow each pushed
// batch in continuous mode: filters and projections per batch, EMIT CHANGES
// per batch, EMIT FINAL windows as the watermark closes them.
func streamsPerBatch(id string) bool { return id == "S0" || id == "S3a" || id == "S3b" }

// MeasureLatency runs sql in continuous mode on a one-partition engine
// (eng.Start), pushes recs one at a time and returns the per-batch latency
// percentiles in milliseconds: the time from Push to Push returning, which
// at one partition includes running the pipeline and handing every result
// record of that batch to the sink.
func MeasureLatency(ctx context.Context, eng *velo.Engine, sql string, recs []arrow.Record) (p50, p95, p99 float64, err error) {
	q, err := eng.Start(ctx, sql, func(rec arrow.Record) error {
		rec.Release()
		return nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	lat := make([]float64, 0, len(recs))
	for _, rec := range recs {
		t0 := time.Now()
		if err := q.Push(rec); err != nil {
			_ = q.Close()
			return 0, 0, 0, err
		}
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	if err := q.Close(); err != nil {
		return 0, 0, 0, err
	}
	return Percentile(lat, 0.50), Percentile(lat, 0.95), Percentile(lat, 0.99), nil
}

// Percentile returns the q-quantile (0 < q <= 1) of xs by the nearest-rank
// method (the smallest value with at least q of the values at or below it);
// 0 for no values. xs is sorted in place.
func Percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	k := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(k, len(xs)-1))]
}

// Config selects what Run measures.
type Config struct {
	// Scenarios are scenario IDs; empty means all of them.
	Scenarios []string
	// Rows is the number of generated rows (ignored with Data).
	Rows int64
	// Seed is the generator seed.
	Seed uint64
	// Partitions lists the partition counts; empty means 1 and 2.
	Partitions []int
	// Reps is the number of timed runs per scenario and partition count (>= 1).
	Reps int
	// Warmup is the number of untimed runs before them (>= 0).
	Warmup int
	// BatchSize is the rows per batch of the generated data and the engine.
	BatchSize int
	// Data, when set, is a file (any format columnar.OpenFile reads) loaded
	// into memory before timing instead of generating rows.
	Data string
	// Mem allocates the data and the engine's memory; nil means the default allocator.
	Mem memory.Allocator
	// ControlWork is the control loop's iterations per goroutine; 0 means
	// the default (about 20–40 ms on a current core).
	ControlWork int
	// Progress, when set, is called after every run with the runs done so
	// far, the total and a label.
	Progress func(done, total int, label string)
}

// Env describes the machine and build a run was measured on.
type Env struct {
	CPU         string `json:"cpu"`
	KernelLevel string `json:"kernel_level"`
	GoVersion   string `json:"go_version"`
	GOOS        string `json:"goos"`
	GOARCH      string `json:"goarch"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	NumCPU      int    `json:"num_cpu"`
}

// CurrentEnv returns the environment of this process.
func CurrentEnv() Env {
	return Env{
		CPU:         kernels.CPUModel(),
		KernelLevel: kernels.Current().String(),
		GoVersion:   runtime.Version(),
		GOOS:        runtime.GOOS,
		GOARCH:      runtime.GOARCH,
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		NumCPU:      runtime.NumCPU(),
	}
}

// Result is one measured (scenario, partitions) pair. Numbers that were not
// measured are nil and print as JSON null.
type Result struct {
	Scenario   string `json:"scenario"`
	Partitions int    `json:"partitions"`
	Rows       int64  `json:"rows"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	Reps       int    `json:"reps"`
	// OutputRows is the number of result rows of one run.
	OutputRows *int64 `json:"output_rows"`
	// RowsPerSec is the median input rows/s over the reps; Min and Max beside it.
	RowsPerSec    *float64 `json:"rows_per_sec"`
	RowsPerSecMin *float64 `json:"rows_per_sec_min"`
	RowsPerSecMax *float64 `json:"rows_per_sec_max"`
	// Latency percentiles of continuous mode, in milliseconds.
	LatencyP50Ms *float64 `json:"latency_p50_ms"`
	LatencyP95Ms *float64 `json:"latency_p95_ms"`
	LatencyP99Ms *float64 `json:"latency_p99_ms"`
	LatencyNote  string   `json:"latency_note,omitempty"`
	// BytesPerRow is the median over reps of Go heap bytes allocated
	// (runtime.MemStats.TotalAlloc delta) per input row.
	BytesPerRow *float64 `json:"bytes_per_row"`
	// ControlSpeedup is the same-run speed-up of a pure-CPU loop on
	// Partitions goroutines over one goroutine (1 at one partition), from
	// a control pair run next to each of this result's timed reps (or,
	// when it has none, Report.Control: runs before and after the
	// scenarios).
	ControlSpeedup float64 `json:"control_speedup"`
	// ScalingEfficiency is (rows/s at N ÷ rows/s at 1) ÷ ControlSpeedup;
	// nil at one partition or when either side was not measured.
	ScalingEfficiency *float64 `json:"scaling_efficiency"`
	// LinearEfficiency is rows/s at N ÷ (N × rows/s at 1), BENCH.md's
	// figure against ideal scaling; nil like ScalingEfficiency.
	LinearEfficiency *float64 `json:"linear_efficiency"`
	Env
}

// Report is the outcome of Run.
type Report struct {
	Env     Env
	Control map[int]float64 // partition count → control speed-up
	Results []Result
}

// Timing is the outcome of Measure.
type Timing struct {
	Durations  []time.Duration // one per timed rep
	AllocBytes []uint64        // Go heap bytes allocated per timed rep
	OutputRows int64           // result rows of the last rep
}

// Measure runs fn warmup times untimed, then reps times timed, and reports
// each timed run's wall time and Go heap allocation. fn returns the number
// of result rows it consumed. An error from fn stops the measurement.
func Measure(warmup, reps int, fn func() (int64, error), after func()) (Timing, error) {
	return measure(warmup, reps, fn, nil, after)
}

// measure is Measure with before run ahead of every timed rep, untimed.
func measure(warmup, reps int, fn func() (int64, error), before, after func()) (Timing, error) {
	var t Timing
	for i := 0; i < warmup; i++ {
		if _, err := fn(); err != nil {
			return t, err
		}
		if after != nil {
			after()
		}
	}
	var ms0, ms1 runtime.MemStats
	for i := 0; i < reps; i++ {
		if before != nil {
			before()
		}
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		start := time.Now()
		n, err := fn()
		el := time.Since(start)
		runtime.ReadMemStats(&ms1)
		if err != nil {
			return t, err
		}
		t.Durations = append(t.Durations, el)
		t.AllocBytes = append(t.AllocBytes, ms1.TotalAlloc-ms0.TotalAlloc)
		t.OutputRows = n
		if after != nil {
			after()
		}
	}
	return t, nil
}

// Throughput returns the median, minimum and maximum of rows ÷ duration.
func (t Timing) Throughput(rows int64) (median, lo, hi float64) {
	rates := make([]float64, len(t.Durations))
	for i, d := range t.Durations {
		rates[i] = float64(rows) / d.Seconds()
	}
	return Median(rates), slices.Min(rates), slices.Max(rates)
}

// BytesPerRow returns the median allocation per input row.
func (t Timing) BytesPerRow(rows int64) float64 {
	if rows == 0 {
		return 0
	}
	b := make([]float64, len(t.AllocBytes))
	for i, a := range t.AllocBytes {
		b[i] = float64(a) / float64(rows)
	}
	return Median(b)
}

// Median returns the median of xs (the mean of the middle two for an even
// count); NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// controlWork is the iterations of the control loop per goroutine: about
// 20–40 ms of integer arithmetic on a current core.
const controlWork = 1 << 25

// controlSink keeps the control loop's result alive.
var controlSink sync.Map

// controlLoop is a fixed CPU-bound loop (xorshift steps, registers only,
// no memory traffic).
func controlLoop(seed uint64, n int) uint64 {
	x := seed | 1
	var acc uint64
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		acc += x
	}
	return acc
}

// ControlTimes runs the control loop (work iterations per goroutine) on g
// goroutines at once and returns the wall time until all finish.
func ControlTimes(g, work int) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			controlSink.Store(i, controlLoop(uint64(i)+1, work))
		}(i)
	}
	wg.Wait()
	return time.Since(start)
}

// ControlSpeedup returns the throughput speed-up of g goroutines over one
// from the median times of each (the reps alternate, so host-load drift
// affects both sides alike): g × median(t1) ÷ median(tg).
func ControlSpeedup(t1, tg []time.Duration, g int) float64 {
	a := make([]float64, len(t1))
	for i, d := range t1 {
		a[i] = d.Seconds()
	}
	b := make([]float64, len(tg))
	for i, d := range tg {
		b[i] = d.Seconds()
	}
	return float64(g) * Median(a) / Median(b)
}

// MeasureControl measures the control speed-up of g goroutines over one
// with reps alternating runs of each.
func MeasureControl(g, reps, work int) float64 {
	if g <= 1 {
		return 1
	}
	t1, tg := controlRuns(g, reps, work)
	return ControlSpeedup(t1, tg, g)
}

// controlRuns returns reps alternating control times on 1 and g goroutines.
func controlRuns(g, reps, work int) (t1, tg []time.Duration) {
	for i := 0; i < reps; i++ {
		t1 = append(t1, ControlTimes(1, work))
		tg = append(tg, ControlTimes(g, work))
	}
	return t1, tg
}

// LoadData returns the benchmark rows: cfg.Data loaded into memory, or
// cfg.Rows generated rows. The caller releases the records.
func LoadData(cfg Config) ([]arrow.Record, int64, error) {
	mem := cfg.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if cfg.Data != "" {
		r, err := columnar.OpenFile(cfg.Data, mem, columnar.WithBatchSize(cfg.BatchSize))
		if err != nil {
			return nil, 0, fmt.Errorf("bench: --data: %w", err)
		}
		defer func() { _ = r.Close() }()
		var recs []arrow.Record
		var rows int64
		for r.Next() {
			rec := r.Record()
			rec.Retain()
			recs = append(recs, rec)
			rows += rec.NumRows()
		}
		if err := r.Err(); err != nil {
			ReleaseAll(recs)
			return nil, 0, fmt.Errorf("bench: reading %s: %w", cfg.Data, err)
		}
		if len(recs) == 0 {
			return nil, 0, fmt.Errorf("bench: %s has no rows", cfg.Data)
		}
		return recs, rows, nil
	}
	gen := NewMarketData(mem, MarketDataConfig{Rows: cfg.Rows, Seed: cfg.Seed, BatchSize: cfg.BatchSize})
	defer gen.Release()
	recs, err := gen.GenerateAll()
	if err != nil {
		return nil, 0, fmt.Errorf("bench: generating market_data: %w", err)
	}
	return recs, cfg.Rows, nil
}

// ReleaseAll releases every record.
func ReleaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

func (cfg *Config) normalize() error {
	if len(cfg.Scenarios) == 0 {
		cfg.Scenarios = ScenarioIDs()
	}
	for _, id := range cfg.Scenarios {
		if _, err := LookupScenario(id); err != nil {
			return err
		}
	}
	if len(cfg.Partitions) == 0 {
		cfg.Partitions = []int{1, 2}
	}
	for _, p := range cfg.Partitions {
		if p < 1 {
			return fmt.Errorf("bench: partitions must be >= 1, got %d", p)
		}
	}
	if cfg.Reps < 1 {
		return fmt.Errorf("bench: reps must be >= 1, got %d", cfg.Reps)
	}
	if cfg.Warmup < 0 {
		return fmt.Errorf("bench: warmup must be >= 0, got %d", cfg.Warmup)
	}
	if cfg.Data == "" && cfg.Rows < 1 {
		return fmt.Errorf("bench: rows must be >= 1, got %d", cfg.Rows)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BatchSize > MaxBatchSize {
		return fmt.Errorf("bench: batch size must be <= %d, got %d", MaxBatchSize, cfg.BatchSize)
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	if cfg.ControlWork <= 0 {
		cfg.ControlWork = controlWork
	}
	return nil
}

// Run loads the data (before any timing), measures the control and then
// every scenario at every partition count. Unsupported scenarios become
// results with Status StatusUnsupported; Run's error is for bad
// configuration or unreadable data only.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.normalize(); err != nil {
		return Report{}, err
	}
	recs, rows, err := LoadData(cfg)
	if err != nil {
		return Report{}, err
	}
	defer ReleaseAll(recs)
	return RunRecords(ctx, cfg, recs, rows)
}

// RunRecords is Run over records already in memory (rows in total).
func RunRecords(ctx context.Context, cfg Config, recs []arrow.Record, rows int64) (Report, error) {
	if cfg.Data == "" && cfg.Rows == 0 {
		cfg.Rows = rows
	}
	if err := cfg.normalize(); err != nil {
		return Report{}, err
	}
	rep := Report{Env: CurrentEnv(), Control: map[int]float64{}}
	// The control runs before and after the scenarios; its speed-up comes
	// from the medians over both, so load that changes during the run is
	// reflected in it.
	type runs struct{ t1, tg []time.Duration }
	control := map[int]*runs{}
	measureControl := func() {
		for _, p := range cfg.Partitions {
			if p == 1 {
				continue
			}
			if control[p] == nil {
				control[p] = &runs{}
			}
			t1, tg := controlRuns(p, 3, cfg.ControlWork)
			control[p].t1 = append(control[p].t1, t1...)
			control[p].tg = append(control[p].tg, tg...)
		}
	}
	measureControl()
	total := len(cfg.Scenarios) * len(cfg.Partitions) * (cfg.Reps + cfg.Warmup)
	done := 0
	for _, id := range cfg.Scenarios {
		sc, _ := LookupScenario(id)
		for _, p := range cfg.Partitions {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			res := runOne(ctx, cfg, sc, p, recs, rows, func() {
				done++
				if cfg.Progress != nil {
					cfg.Progress(done, total, fmt.Sprintf("%s ×%d", sc.ID, p))
				}
			})
			// Unsupported or failed runs skip their remaining steps.
			if cfg.Progress != nil && res.Status != StatusOK {
				done = doneAfter(cfg, id, p)
				cfg.Progress(done, total, fmt.Sprintf("%s ×%d", sc.ID, p))
			}
			res.Env = rep.Env
			rep.Results = append(rep.Results, res)
		}
	}
	measureControl()
	rep.Control[1] = 1
	for p, c := range control {
		rep.Control[p] = ControlSpeedup(c.t1, c.tg, p)
	}
	// Scaling against the same run's one-partition figure.
	base := map[string]*float64{}
	for _, r := range rep.Results {
		if r.Partitions == 1 {
			base[r.Scenario] = r.RowsPerSec
		}
	}
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.ControlSpeedup == 0 {
			r.ControlSpeedup = rep.Control[r.Partitions]
		}
		one := base[r.Scenario]
		if r.Partitions == 1 || r.RowsPerSec == nil || one == nil {
			continue
		}
		ratio := *r.RowsPerSec / *one
		r.ScalingEfficiency = fptr(ratio / r.ControlSpeedup)
		r.LinearEfficiency = fptr(ratio / float64(r.Partitions))
	}
	return rep, nil
}

// doneAfter is the progress count once (id, p) is finished.
func doneAfter(cfg Config, id string, p int) int {
	n := 0
	for _, s := range cfg.Scenarios {
		for _, q := range cfg.Partitions {
			n += cfg.Reps + cfg.Warmup
			if s == id && q == p {
				return n
			}
		}
	}
	return n
}

func fptr[T any](v T) *T { return &v }

// runOne measures one scenario at one partition count.
func runOne(ctx context.Context, cfg Config, sc Scenario, p int, recs []arrow.Record, rows int64, step func()) Result {
	res := Result{Scenario: sc.ID, Partitions: p, Rows: rows, Reps: cfg.Reps}
	eng := velo.New(velo.WithAllocator(cfg.Mem), velo.WithPartitions(p), velo.WithBatchSize(cfg.BatchSize))
	defer eng.Close()
	if err := eng.RegisterTable(MarketDataTable, recs); err != nil {
		res.Status, res.Error = StatusError, err.Error()
		return res
	}
	// A query the engine cannot plan or compile is unsupported.
	r, err := eng.Execute(ctx, sc.SQL)
	if err != nil {
		res.Status, res.Error = StatusUnsupported, oneLine(err)
		return res
	}
	r.Release()
	// At several partitions a control pair (the loop on one goroutine, then
	// on p) runs next to every timed rep: the host's second core comes and
	// goes in phases of seconds (BENCH.md), and a control measured only
	// at the ends of the run misses a phase that covers one scenario.
	var c1, cp []time.Duration
	var before func()
	if p > 1 {
		before = func() {
			t1, tg := controlRuns(p, 1, cfg.ControlWork)
			c1, cp = append(c1, t1...), append(cp, tg...)
		}
	}
	t, err := measure(cfg.Warmup, cfg.Reps, func() (int64, error) { return RunQuery(ctx, eng, sc.SQL) }, before, step)
	if err != nil {
		res.Status, res.Error = StatusError, oneLine(err)
		return res
	}
	med, lo, hi := t.Throughput(rows)
	res.Status = StatusOK
	if p > 1 {
		res.ControlSpeedup = ControlSpeedup(c1, cp, p)
	}
	res.RowsPerSec, res.RowsPerSecMin, res.RowsPerSecMax = &med, &lo, &hi
	res.BytesPerRow = fptr(t.BytesPerRow(rows))
	res.OutputRows = fptr(t.OutputRows)
	switch {
	case !streamsPerBatch(sc.ID):
		res.LatencyNote = LatencyAtEndOnly
	case p != 1:
		res.LatencyNote = LatencyOnePartition
	default:
		p50, p95, p99, err := MeasureLatency(ctx, eng, sc.SQL, recs)
		if err != nil {
			res.Status, res.Error = StatusError, "continuous mode: "+oneLine(err)
			return res
		}
		res.LatencyP50Ms, res.LatencyP95Ms, res.LatencyP99Ms = &p50, &p95, &p99
	}
	return res
}

// RunQuery executes sql on eng, consumes every result batch and returns the
// number of result rows.
func RunQuery(ctx context.Context, eng *velo.Engine, sql string) (int64, error) {
	r, err := eng.Execute(ctx, sql)
	if err != nil {
		return 0, err
	}
	defer r.Release()
	var n int64
	for r.Next() {
		n += r.Record().NumRows()
	}
	if err := r.Err(); err != nil {
		return n, err
	}
	return n, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// ErrFailed is returned (wrapped) by Failed when a scenario failed while running.
var ErrFailed = errors.New("bench: scenario failed")

// Failed returns an error naming every result with StatusError, or nil.
func (r Report) Failed() error {
	var msgs []string
	for _, res := range r.Results {
		if res.Status == StatusError {
			msgs = append(msgs, fmt.Sprintf("%s at %d partitions: %s", res.Scenario, res.Partitions, res.Error))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrFailed, strings.Join(msgs, "; "))
}
