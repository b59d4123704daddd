package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/spf13/cobra"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/kernels"
)

func newDemoCmd() *cobra.Command {
	var rows int64
	var seed uint64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate market_data, run every benchmark scenario through SQL and show the results (what `make demo` runs)",
		Long: `Generate market_data in memory (1,000,000 rows by default), summarise it, then
run every scenario of BENCH.md through the SQL API at 1 partition and at one
partition per CPU, printing input rows/s (median of 3 runs) and the first
result rows of each. Scenarios the engine cannot run yet are listed as
unsupported with the reason. For careful measurements use velo bench.`,
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
	if err := sum.Format(w); err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return demoScenarios(w, mem, recs, rows)
}

// demoPartitions returns 1 and the CPU count (just 1 on one CPU).
func demoPartitions() []int {
	if n := runtime.NumCPU(); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

// demoScenarios runs every scenario through SQL and prints a rows/s table
// and the first result rows of each.
func demoScenarios(w io.Writer, mem memory.Allocator, recs []arrow.Record, rows int64) error {
	parts := demoPartitions()
	cfg := bench.Config{Partitions: parts, Reps: 3, Warmup: 1, BatchSize: 8192, Mem: mem, ControlWork: 1 << 22}
	rep, err := bench.RunRecords(context.Background(), cfg, recs, rows)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, "scenarios over %d rows through SQL (input M rows/s, median of %d runs; a busy machine varies):\n", rows, cfg.Reps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "scenario\twhat")
	for _, p := range parts {
		fmt.Fprintf(tw, "\t×%d partitions", p)
	}
	fmt.Fprintln(tw, "\tresult rows")
	byKey := map[string]bench.Result{}
	for _, r := range rep.Results {
		byKey[fmt.Sprintf("%s/%d", r.Scenario, r.Partitions)] = r
	}
	for _, sc := range bench.Scenarios() {
		fmt.Fprintf(tw, "%s\t%s", sc.ID, sc.Title)
		out := "-"
		for _, p := range parts {
			r := byKey[fmt.Sprintf("%s/%d", sc.ID, p)]
			if r.Status == bench.StatusOK {
				fmt.Fprintf(tw, "\t%s", bench.FormatMRows(r.RowsPerSec))
				out = fmt.Sprint(*r.OutputRows)
			} else {
				fmt.Fprintf(tw, "\t%s", r.Status)
			}
		}
		fmt.Fprintf(tw, "\t%s\n", out)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := rep.Failed(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(parts[len(parts)-1]))
	defer eng.Close()
	if err := eng.RegisterTable(bench.MarketDataTable, recs); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, sc := range bench.Scenarios() {
		fmt.Fprintf(w, "\n%s — %s\n  %s\n", sc.ID, sc.Title, sc.SQL)
		r, err := eng.Execute(context.Background(), sc.SQL)
		if err != nil {
			fmt.Fprintf(w, "  unsupported: %s\n", strings.Join(strings.Fields(err.Error()), " "))
			continue
		}
		if err := printFirstRows(w, r, 3); err != nil {
			return fmt.Errorf("demo: %s: %w", sc.ID, err)
		}
	}
	return nil
}

// printFirstRows prints r's first n rows, consumes the rest and releases r.
func printFirstRows(w io.Writer, r array.RecordReader, n int) error {
	defer r.Release()
	printed := false
	for r.Next() {
		if rec := r.Record(); !printed && rec.NumRows() > 0 {
			printRecord(w, rec, n)
			printed = true
		}
	}
	return r.Err()
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
