package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/kernels"
)

type benchOptions struct {
	scenarios  []string
	rows       int64
	seed       uint64
	partitions []int
	reps       int
	warmup     int
	batchSize  int
	kernels    string
	data       string
	json       bool
	compare    string
	plot       string
	progress   string
	control    int
	cpuProfile string
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench [NEW.json]",
		Short: "Run the BENCH.md scenarios through SQL and report rows/s, allocation and scaling",
		Long: `Run the benchmark scenarios of BENCH.md (S0 filter+projection, S1 ROWS window,
S2/S2h GROUP BY with 1,000/100,000 groups, S3a/S3b tumbling windows) through the
public SQL API over market_data held in memory (generated, or loaded from --data
before timing). For each scenario and partition count it reports the median,
min and max input rows/s over --reps runs after --warmup runs, the Go heap bytes
allocated per row, and — measured in the same run — the speed-up of a pure-CPU
loop on N goroutines over one, with scaling efficiency =
(rows/s at N ÷ rows/s at 1) ÷ that control speed-up.

Scenarios the engine cannot run yet are listed as "unsupported" with the
engine's error. Per-batch latency p50/p95/p99 (batch pushed → its results
emitted) is measured in continuous mode (Engine.Start) at one partition, for
the scenarios that emit while rows arrive (S0, S3a, S3b); for the others the
latency fields are null with a note saying why.

--compare OLD.json prints new ÷ old ratios for this run; with a NEW.json
argument it compares the two files without running anything.`,
		Example: `  velo bench --rows 1000000 --reps 3
  velo bench --scenarios S0,S2 --partitions 1,2,4 --json > run.json
  velo bench --data market_data.parquet --kernels generic --plot bench.svg
  velo bench --compare old.json run.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if o.compare == "" {
					return fmt.Errorf("bench: a NEW.json argument needs --compare OLD.json")
				}
				return compareFiles(cmd.OutOrStdout(), o.compare, args[0])
			}
			return runBench(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.scenarios, "scenarios", bench.ScenarioIDs(), "scenarios to run")
	f.Int64Var(&o.rows, "rows", bench.DefaultRows, "market_data rows to generate")
	f.Uint64Var(&o.seed, "seed", bench.DefaultSeed, "generator seed")
	f.IntSliceVar(&o.partitions, "partitions", []int{1, 2}, "partition counts")
	f.IntVar(&o.reps, "reps", 5, "timed runs per scenario and partition count")
	f.IntVar(&o.warmup, "warmup", 1, "untimed runs before them")
	f.IntVar(&o.batchSize, "batch-size", bench.DefaultBatchSize, "rows per batch")
	f.StringVar(&o.kernels, "kernels", "", "kernel level: generic, avx2, avx512, neon (default: best supported or VELO_KERNELS)")
	f.StringVar(&o.data, "data", "", "load market_data from this file (written by velo gen) instead of generating it")
	f.BoolVar(&o.json, "json", false, "print one JSON object per scenario × partitions instead of the table")
	f.StringVar(&o.compare, "compare", "", "print new ÷ old ratios against this JSON file from an earlier run")
	f.StringVar(&o.plot, "plot", "", "draw throughput per scenario and partition count into this .png or .svg")
	f.StringVar(&o.progress, "progress", "auto", "progress bar: auto (on a terminal), always, never")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (data generation excluded) to this file")
	f.IntVar(&o.control, "control-work", 0, "control loop iterations per goroutine (0: default)")
	_ = f.MarkHidden("control-work")
	return cmd
}

func readResults(path string) ([]bench.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	rs, err := bench.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", path, err)
	}
	return rs, nil
}

func compareFiles(w io.Writer, oldPath, newPath string) error {
	old, err := readResults(oldPath)
	if err != nil {
		return err
	}
	cur, err := readResults(newPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s ÷ %s:\n", newPath, oldPath)
	return bench.WriteCompare(w, old, cur)
}

func runBench(ctx context.Context, stdout, stderr io.Writer, o benchOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	showBar, err := wantProgress(o.progress)
	if err != nil {
		return err
	}
	if o.plot != "" {
		// Fail before a long run, not after it.
		if ext := strings.ToLower(filepath.Ext(o.plot)); ext != ".png" && ext != ".svg" {
			return fmt.Errorf("bench: --plot %s: want a .png or .svg file", o.plot)
		}
	}
	var old []bench.Result
	if o.compare != "" {
		if old, err = readResults(o.compare); err != nil {
			return err
		}
	}
	if o.kernels != "" {
		l, err := kernels.ParseLevel(o.kernels)
		if err != nil {
			return fmt.Errorf("bench: --kernels: %w", err)
		}
		restore, err := kernels.SetLevel(l)
		if err != nil {
			return fmt.Errorf("bench: --kernels: %w", err)
		}
		defer restore()
	}
	cfg := bench.Config{
		Scenarios: o.scenarios, Rows: o.rows, Seed: o.seed, Partitions: o.partitions,
		Reps: o.reps, Warmup: o.warmup, BatchSize: o.batchSize, Data: o.data, ControlWork: o.control,
	}
	var bar *progressbar.ProgressBar
	if showBar {
		cfg.Progress = func(done, total int, label string) {
			if bar == nil {
				bar = progressbar.NewOptions(total,
					progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription("velo bench"),
					progressbar.OptionShowCount(),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			bar.Describe("velo bench " + label)
			_ = bar.Set(done)
		}
	}
	if o.cpuProfile != "" {
		recs, rows, err := bench.LoadData(cfg)
		if err != nil {
			return err
		}
		defer bench.ReleaseAll(recs)
		pf, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: --cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("bench: --cpuprofile: %w", err)
		}
		rep, err := bench.RunRecords(ctx, cfg, recs, rows)
		pprof.StopCPUProfile()
		return finishBench(stdout, stderr, o, old, cfg, bar, rep, err)
	}
	rep, err := bench.Run(ctx, cfg)
	return finishBench(stdout, stderr, o, old, cfg, bar, rep, err)
}

// finishBench prints a finished run (table or JSON, comparison, plot).
func finishBench(stdout, stderr io.Writer, o benchOptions, old []bench.Result, cfg bench.Config, bar *progressbar.ProgressBar, rep bench.Report, err error) error {
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	if o.json {
		if err := bench.WriteJSON(stdout, rep); err != nil {
			return err
		}
	} else if err := bench.WriteTable(stdout, rep); err != nil {
		return err
	}
	if old != nil {
		// With --json, stdout stays pure JSON lines.
		w := stdout
		if o.json {
			w = stderr
		}
		fmt.Fprintf(w, "\nthis run ÷ %s:\n", o.compare)
		if err := bench.WriteCompare(w, old, rep.Results); err != nil {
			return err
		}
	}
	if o.plot != "" {
		title := fmt.Sprintf("velo bench, %d rows, %s, kernels %s", rep.Results[0].Rows, rep.Env.CPU, rep.Env.KernelLevel)
		if err := bench.WritePlot(o.plot, title, cfg.Scenarios, bench.SeriesFromResults(rep.Results)); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.plot)
	}
	return rep.Failed()
}
