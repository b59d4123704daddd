package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
)

type genOptions struct {
	rows      int64
	seed      uint64
	batchSize int
	out       string
	progress  string
}

func newGenCmd() *cobra.Command {
	var o genOptions
	cmd := &cobra.Command{
		Use:   "gen market_data --out FILE",
		Short: "Generate the deterministic market_data benchmark data set",
		Long: `Generate the market_data data set of BENCH.md (trade_time, symbol, trader_id,
price, quantity): the same seed gives the same rows on every machine and ISA.
The file format follows the extension: .parquet, .arrow (IPC file),
.arrows (IPC stream), .csv, .jsonl.`,
		Example: `  velo gen market_data --rows 10000000 --seed 42 --out market_data.parquet
  velo gen market_data --rows 1000 --out sample.csv`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return errors.New("gen: want exactly one data set name (market_data)")
			}
			if args[0] != "market_data" {
				return fmt.Errorf("gen: unknown data set %q (available: market_data)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGen(cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&o.rows, "rows", 10_000_000, "number of rows")
	f.Uint64Var(&o.seed, "seed", 42, "generator seed")
	f.IntVar(&o.batchSize, "batch-size", 8192, "rows per record batch")
	f.StringVar(&o.out, "out", "", "output file (.parquet, .arrow, .arrows, .csv, .jsonl)")
	f.StringVar(&o.progress, "progress", "auto", "progress bar: auto (on a terminal), always, never")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runGen(stderr io.Writer, o genOptions) error {
	if o.rows < 0 {
		return fmt.Errorf("gen: --rows must be >= 0, got %d", o.rows)
	}
	if o.batchSize <= 0 {
		return fmt.Errorf("gen: --batch-size must be > 0, got %d", o.batchSize)
	}
	if _, err := columnar.FormatFromPath(o.out); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	showBar, err := wantProgress(o.progress)
	if err != nil {
		return err
	}
	mem := memory.NewGoAllocator()
	gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: o.rows, Seed: o.seed, BatchSize: o.batchSize})
	defer gen.Release()

	// Write to a temporary file beside the target and rename at the end, so a
	// failed or interrupted run never leaves a truncated file under the name.
	dir, base := filepath.Split(o.out)
	tmp := filepath.Join(dir, "."+base+".tmp"+filepath.Ext(base))
	w, err := columnar.CreateFile(tmp, gen.Schema(), mem)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	var bar *progressbar.ProgressBar
	if showBar {
		bar = progressbar.NewOptions64(o.rows,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("market_data → "+o.out),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	start := time.Now()
	var written int64
	for gen.Next() {
		rec := gen.Record()
		if err := w.Write(rec); err != nil {
			_ = w.Close()
			_ = os.Remove(tmp)
			return fmt.Errorf("gen: writing %s: %w", o.out, err)
		}
		written += rec.NumRows()
		if bar != nil {
			_ = bar.Add64(rec.NumRows())
		}
	}
	if err := gen.Err(); err != nil {
		_ = w.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("gen: %w", err)
	}
	if err := w.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("gen: closing %s: %w", o.out, err)
	}
	if err := os.Rename(tmp, o.out); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("gen: %w", err)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	el := time.Since(start)
	fmt.Fprintf(stderr, "wrote %d rows to %s in %s (%.1f M rows/s)\n", written, o.out,
		el.Round(time.Millisecond), float64(written)/el.Seconds()/1e6)
	return nil
}

func wantProgress(mode string) (bool, error) {
	switch mode {
	case "auto":
		return term.IsTerminal(int(os.Stderr.Fd())), nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	return false, fmt.Errorf("--progress: want auto, always or never, got %q", mode)
}
