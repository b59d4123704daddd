// Command peers runs BENCH.md's scenarios on the same market_data rows in
// Velo, in DuckDB (through github.com/duckdb/duckdb-go, cgo, the data
// loaded with read_parquet from a file written by Velo's columnar writer,
// SET threads matching Velo's partitions, each query's result consumed
// inside DuckDB by an outer aggregate) and in a naive one-goroutine Go
// baseline, all in one process with the engines' runs alternating, and
// prints Velo ÷ DuckDB and Velo ÷ naive Go per scenario with agreement
// checks (row counts and column checksums).
//
// It is its own module so that the main module stays free of cgo.
//
//	go run . --rows 10000000 --partitions 1,2 --reps 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

type options struct {
	rows       int64
	seed       uint64
	partitions []int
	reps       int
	warmup     int
	scenarios  []string
	duckdb     bool
	parquet    string
	plot       string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--partitions: want positive integers separated by commas, got %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Int64Var(&o.rows, "rows", bench.DefaultRows, "market_data rows")
	fs.Uint64Var(&o.seed, "seed", bench.DefaultSeed, "generator seed")
	parts := fs.String("partitions", "1,2", "Velo partitions = DuckDB threads, comma-separated")
	fs.IntVar(&o.reps, "reps", 3, "timed runs per engine (alternating between engines)")
	fs.IntVar(&o.warmup, "warmup", 1, "untimed runs per engine first")
	scen := fs.String("scenarios", strings.Join(bench.ScenarioIDs(), ","), "scenarios, comma-separated")
	fs.BoolVar(&o.duckdb, "duckdb", true, "run DuckDB (false: Velo and naive Go only)")
	fs.StringVar(&o.parquet, "parquet", "", "Parquet file for DuckDB (default: a temporary file, removed at the end)")
	fs.StringVar(&o.plot, "plot", "", "draw throughput per scenario and engine into this .png or .svg")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.partitions, err = parseInts(*parts); err != nil {
		return o, err
	}
	for _, id := range strings.Split(*scen, ",") {
		s, err := bench.LookupScenario(strings.TrimSpace(id))
		if err != nil {
			return o, err
		}
		o.scenarios = append(o.scenarios, s.ID)
	}
	if o.rows < 1 || o.reps < 1 || o.warmup < 0 {
		return o, fmt.Errorf("want --rows >= 1, --reps >= 1, --warmup >= 0")
	}
	return o, nil
}

// engineTiming is one engine's timed runs of one scenario at one partition count.
type engineTiming struct {
	name  string
	err   error // unsupported or failed: no numbers
	times []time.Duration
}

func (e engineTiming) rates(rows int64) []float64 {
	if e.err != nil {
		return nil
	}
	rs := make([]float64, len(e.times))
	for i, d := range e.times {
		rs[i] = float64(rows) / d.Seconds()
	}
	return rs
}

func (e engineTiming) rate(rows int64) float64 {
	rs := e.rates(rows)
	if len(rs) == 0 {
		return 0
	}
	return bench.Median(rs)
}

// spread formats the min–max rows/s of e in M rows/s.
func (e engineTiming) spread(rows int64) string {
	rs := e.rates(rows)
	if len(rs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f–%.1f", slices.Min(rs)/1e6, slices.Max(rs)/1e6)
}

// row is one line of the report.
type row struct {
	scenario           string
	partitions         int
	velo, duck, naive  engineTiming
	veloSum, duckSum   *Checksum
	naiveSum           *Checksum
	veloRate, duckRate float64
	naiveRate          float64
	rowsIn             int64
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	mem := memory.DefaultAllocator
	fmt.Fprintf(stderr, "generating %d market_data rows (seed %d)…\n", o.rows, o.seed)
	gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: o.rows, Seed: o.seed, BatchSize: bench.DefaultBatchSize})
	recs, err := gen.GenerateAll()
	gen.Release()
	if err != nil {
		return err
	}
	defer bench.ReleaseAll(recs)

	var d *duck
	if o.duckdb {
		path := o.parquet
		if path == "" {
			dir, err := os.MkdirTemp("", "velo-peers-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			path = filepath.Join(dir, "market_data.parquet")
		}
		if err := writeParquet(path, recs, mem); err != nil {
			return err
		}
		if d, err = openDuck(ctx, path); err != nil {
			return err
		}
		defer d.Close()
	}

	env := bench.CurrentEnv()
	fmt.Fprintf(stdout, "rows %d, reps %d (median), warmup %d; CPU %s, kernels %s, %s, GOMAXPROCS %d\n",
		o.rows, o.reps, o.warmup, env.CPU, kernels.Current(), env.GoVersion, env.GOMAXPROCS)
	var rows []row
	for _, id := range o.scenarios {
		sc, _ := bench.LookupScenario(id)
		for _, p := range o.partitions {
			fmt.Fprintf(stderr, "%s at %d partitions/threads…\n", id, p)
			r, err := measure(ctx, o, sc, p, recs, d)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	if err := writeReport(stdout, o, rows); err != nil {
		return err
	}
	if o.plot != "" {
		if err := plot(o, rows); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.plot)
	}
	return nil
}

func writeParquet(path string, recs []arrow.Record, mem memory.Allocator) error {
	w, err := columnar.CreateFile(path, bench.MarketDataSchema(), mem)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			_ = w.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return w.Close()
}

// measure times Velo, DuckDB and naive Go on one scenario at p partitions,
// alternating the engines within every rep so host-load drift hits all.
func measure(ctx context.Context, o options, sc bench.Scenario, p int, recs []arrow.Record, d *duck) (row, error) {
	r := row{scenario: sc.ID, partitions: p}
	r.velo.name, r.duck.name, r.naive.name = "velo", "duckdb", "naive"
	eng := velo.New(velo.WithPartitions(p))
	defer eng.Close()
	if err := eng.RegisterTable(bench.MarketDataTable, recs); err != nil {
		return r, err
	}
	if rd, err := eng.Execute(ctx, sc.SQL); err != nil {
		r.velo.err = fmt.Errorf("unsupported: %w", err)
	} else {
		cs, err := ChecksumRecords(rd, checkCols[sc.ID])
		rd.Release()
		if err != nil {
			r.velo.err = err
		} else {
			r.veloSum = &cs
		}
	}
	if d == nil {
		r.duck.err = errors.New("not run (--duckdb=false)")
	} else if _, ok := duckSQL[sc.ID]; !ok {
		r.duck.err = errors.New("n/a (no EMIT CHANGES in DuckDB)")
	} else if err := d.setThreads(ctx, p); err != nil {
		return r, err
	}
	var last naiveResult
	for i := 0; i < o.warmup+o.reps; i++ {
		timed := i >= o.warmup
		if r.velo.err == nil {
			t0 := time.Now()
			_, err := bench.RunQuery(ctx, eng, sc.SQL)
			el := time.Since(t0)
			if err != nil {
				r.velo.err = err
			} else if timed {
				r.velo.times = append(r.velo.times, el)
			}
		}
		if r.duck.err == nil {
			t0 := time.Now()
			cs, err := d.run(ctx, sc.ID)
			el := time.Since(t0)
			if err != nil {
				r.duck.err = err
			} else if timed {
				r.duck.times = append(r.duck.times, el)
				r.duckSum = &cs
			}
		}
		t0 := time.Now()
		res, err := naive(sc.ID, recs)
		el := time.Since(t0)
		if err != nil {
			return r, err
		}
		if timed {
			r.naive.times = append(r.naive.times, el)
		}
		last = res
	}
	cs := last.checksum()
	r.naiveSum = &cs
	rowsIn := int64(0)
	for _, rec := range recs {
		rowsIn += rec.NumRows()
	}
	r.rowsIn = rowsIn
	r.veloRate, r.duckRate, r.naiveRate = r.velo.rate(rowsIn), r.duck.rate(rowsIn), r.naive.rate(rowsIn)
	return r, nil
}

func mrows(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/1e6)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// agreement compares two checksums; "-" when either side is missing.
func agreement(a, b *Checksum) string {
	if a == nil || b == nil {
		return "-"
	}
	if err := Agree(*a, *b); err != nil {
		return "MISMATCH: " + err.Error()
	}
	return "ok"
}

// target is BENCH.md's goal for Velo at one partition from this run's
// peers: max(2× DuckDB, 1.5× naive Go) on S0, S2, S2h and S3a, 10× DuckDB
// on S1; 0 when there is none.
func target(r row) float64 {
	if r.partitions != 1 {
		return 0
	}
	switch r.scenario {
	case "S0", "S2", "S2h", "S3a":
		return max(2*r.duckRate, 1.5*r.naiveRate)
	case "S1":
		return 10 * r.duckRate
	}
	return 0
}

func writeReport(w io.Writer, o options, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tpartitions\tVelo Mrows/s\tDuckDB\tnaive Go\tVelo÷DuckDB\tVelo÷naive\ttarget\tmet\tVelo min–max\tDuckDB min–max\tnaive min–max\t")
	for _, r := range rows {
		t := target(r)
		met := "-"
		if t > 0 && r.veloRate > 0 {
			met = map[bool]string{true: "yes", false: "no"}[r.veloRate >= t]
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.scenario, r.partitions, mrows(r.veloRate), mrows(r.duckRate),
			mrows(r.naiveRate), ratio(r.veloRate, r.duckRate), ratio(r.veloRate, r.naiveRate), mrows(t), met,
			r.velo.spread(r.rowsIn), r.duck.spread(r.rowsIn), r.naive.spread(r.rowsIn))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nagreement (row count and column checksums):")
	for _, r := range rows {
		line := fmt.Sprintf("  %s ×%d: naive vs DuckDB %s; Velo vs DuckDB %s; Velo vs naive %s",
			r.scenario, r.partitions, agreement(r.naiveSum, r.duckSum), agreement(r.veloSum, r.duckSum), agreement(r.veloSum, r.naiveSum))
		for _, e := range []engineTiming{r.velo, r.duck} {
			if e.err != nil {
				line += fmt.Sprintf("; %s: %s", e.name, strings.Join(strings.Fields(e.err.Error()), " "))
			}
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

func plot(o options, rows []row) error {
	var series []bench.PlotSeries
	add := func(label string, pick func(row) (int, float64)) {
		for _, p := range o.partitions {
			s := bench.PlotSeries{Label: fmt.Sprintf(label, p), Values: map[string]float64{}}
			for _, r := range rows {
				if rp, v := pick(r); rp == p && v > 0 {
					s.Values[r.scenario] = v
				}
			}
			series = append(series, s)
		}
	}
	add("Velo ×%d", func(r row) (int, float64) { return r.partitions, r.veloRate })
	if o.duckdb {
		add("DuckDB %d thr", func(r row) (int, float64) { return r.partitions, r.duckRate })
	}
	series = append(series, bench.PlotSeries{Label: "naive Go", Values: map[string]float64{}})
	for _, r := range rows {
		if r.partitions == o.partitions[0] {
			series[len(series)-1].Values[r.scenario] = r.naiveRate
		}
	}
	return bench.WritePlot(o.plot, fmt.Sprintf("market_data, %d rows: Velo, DuckDB, naive Go", o.rows), o.scenarios, series)
}
