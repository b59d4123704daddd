package main

import (
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/spf13/cobra"

	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/kernels"
)

func newDemoCmd() *cobra.Command {
	var rows int64
	var seed uint64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate market_data in memory and summarise it (what `make demo` runs)",
		Example: `  velo demo
  velo demo --rows 5000000 --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.OutOrStdout(), rows, seed)
		},
	}
	cmd.Flags().Int64Var(&rows, "rows", 1_000_000, "rows to generate")
	cmd.Flags().Uint64Var(&seed, "seed", 42, "generator seed")
	return cmd
}

func runDemo(w io.Writer, rows int64, seed uint64) error {
	if rows < 0 {
		return fmt.Errorf("demo: --rows must be >= 0, got %d", rows)
	}
	mem := memory.NewGoAllocator()
	fmt.Fprintf(w, "Velo %s — kernels: %s, CPU: %s\n\n", version, kernels.Current(), kernels.CPUModel())

	gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: rows, Seed: seed, BatchSize: 8192})
	start := time.Now()
	recs, err := gen.GenerateAll()
	el := time.Since(start)
	gen.Release()
	if err != nil {
		return fmt.Errorf("demo: generating market_data: %w", err)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	fmt.Fprintf(w, "generated %d market_data rows in %d batches in %s: %.1f M rows/s\n\n",
		rows, len(recs), el.Round(time.Microsecond), float64(rows)/el.Seconds()/1e6)

	if len(recs) > 0 {
		fmt.Fprintln(w, "first rows:")
		printRecord(w, recs[0], 5)
		fmt.Fprintln(w)
	}

	rdr, err := array.NewRecordReader(bench.MarketDataSchema(), recs)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer rdr.Release()
	sum, err := bench.Summarize(rdr)
	if err != nil {
		return fmt.Errorf("demo: summarising: %w", err)
	}
	fmt.Fprintln(w, "column summary:")
	return sum.Format(w)
}

// printRecord prints up to max rows of rec as an aligned text table.
func printRecord(w io.Writer, rec arrow.Record, max int) {
	n := int(rec.NumRows())
	if n > max {
		n = max
	}
	ncol := int(rec.NumCols())
	cells := make([][]string, n+1)
	cells[0] = make([]string, ncol)
	for c := 0; c < ncol; c++ {
		cells[0][c] = rec.ColumnName(c)
	}
	for r := 0; r < n; r++ {
		cells[r+1] = make([]string, ncol)
		for c := 0; c < ncol; c++ {
			col := rec.Column(c)
			if col.IsNull(r) {
				cells[r+1][c] = "NULL"
			} else {
				cells[r+1][c] = col.ValueStr(r)
			}
		}
	}
	widths := make([]int, ncol)
	for _, row := range cells {
		for c, s := range row {
			if l := len([]rune(s)); l > widths[c] {
				widths[c] = l
			}
		}
	}
	for _, row := range cells {
		for c, s := range row {
			if c > 0 {
				fmt.Fprint(w, "  ")
			}
			fmt.Fprintf(w, "%-*s", widths[c], s)
		}
		fmt.Fprintln(w)
	}
}
