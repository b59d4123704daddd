package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/spf13/cobra"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
)

func newQueryCmd() *cobra.Command {
	var tables []string
	var format, gen string
	var partitions int
	var explain bool
	cmd := &cobra.Command{
		Use:   "query [flags] SQL",
		Short: "Run a SQL query over files or generated data and print the result",
		Long: `query registers each --table NAME=PATH (Parquet, Arrow IPC, CSV or JSON lines,
by extension) and runs one SQL query over them. Results go to stdout: csv (with a
header; NULL is an empty field; floats in Go's shortest round-trip form), json
(JSON lines), table (aligned text) or arrow (an Arrow IPC stream). Errors go to
stderr with a non-zero exit status.`,
		Example: `  velo query --table md=md.parquet "SELECT symbol, COUNT(*) AS n FROM md GROUP BY symbol ORDER BY n DESC LIMIT 5"
  velo query --gen market_data:100000 --format table "SELECT symbol, AVG(price) FROM market_data GROUP BY symbol LIMIT 3"
  velo query --explain --table md=md.parquet "SELECT price * quantity FROM md WHERE price > 100.0"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runQuery(ctx, cmd.OutOrStdout(), args[0], tables, gen, format, partitions, explain)
		},
	}
	cmd.Flags().StringArrayVar(&tables, "table", nil, "register a table: NAME=PATH (repeatable)")
	cmd.Flags().StringVar(&format, "format", "csv", "output format: csv, json, table or arrow")
	cmd.Flags().IntVar(&partitions, "partitions", 1, "partitions (worker goroutines) to run the query on; a query's 'partitions' setting overrides it")
	cmd.Flags().BoolVar(&explain, "explain", false, "print the query plan instead of running it")
	cmd.Flags().StringVar(&gen, "gen", "", "register generated data in memory: market_data[:rows] (default 1000000 rows)")
	return cmd
}

func runQuery(ctx context.Context, stdout io.Writer, sql string, tables []string, gen, format string, partitions int, explain bool) error {
	switch format {
	case "csv", "json", "table", "arrow":
	default:
		return fmt.Errorf("--format %q: want csv, json, table or arrow", format)
	}
	if partitions < 1 {
		return fmt.Errorf("--partitions %d: must be at least 1", partitions)
	}
	mem := memory.DefaultAllocator
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(partitions))
	defer eng.Close()
	for _, t := range tables {
		name, path, ok := strings.Cut(t, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("--table %q: want NAME=PATH", t)
		}
		if err := eng.RegisterTable(name, path); err != nil {
			return err
		}
	}
	if gen != "" {
		if err := registerGenerated(eng, mem, gen); err != nil {
			return err
		}
	}
	if explain {
		plan, err := eng.Explain(sql)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, plan)
		return err
	}
	res, err := eng.Execute(ctx, sql)
	if err != nil {
		return err
	}
	defer res.Release()
	out := bufio.NewWriterSize(stdout, 1<<16)
	if err := writeResult(out, mem, res, format); err != nil {
		return err
	}
	return out.Flush()
}

func registerGenerated(eng *velo.Engine, mem memory.Allocator, spec string) error {
	recs, err := generateSpec(mem, spec)
	if err != nil {
		return err
	}
	defer releaseRecords(recs)
	return eng.RegisterTable(bench.MarketDataTable, recs)
}

// generateSpec generates the data set named by a --gen flag value,
// "market_data[:rows]" (default 1,000,000 rows, seed 42). It returns at
// least one record (an empty one for zero rows) so the schema is known; the
// caller releases them.
func generateSpec(mem memory.Allocator, spec string) ([]arrow.Record, error) {
	name, rowsText, hasRows := strings.Cut(spec, ":")
	if name != bench.MarketDataTable {
		return nil, fmt.Errorf("--gen %q: only %s[:rows] can be generated", spec, bench.MarketDataTable)
	}
	cfg := bench.DefaultMarketDataConfig()
	cfg.Rows = 1_000_000
	if hasRows {
		n, err := strconv.ParseInt(rowsText, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--gen %q: rows must be a non-negative integer", spec)
		}
		cfg.Rows = n
	}
	g := bench.NewMarketData(mem, cfg)
	defer g.Release()
	recs, err := g.GenerateAll()
	if err != nil {
		releaseRecords(recs)
		return nil, fmt.Errorf("--gen %q: %w", spec, err)
	}
	if len(recs) == 0 {
		cols := emptyColumns(mem, bench.MarketDataSchema())
		recs = append(recs, array.NewRecord(bench.MarketDataSchema(), cols, 0))
		for _, c := range cols {
			c.Release()
		}
	}
	return recs, nil
}

func releaseRecords(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

func emptyColumns(mem memory.Allocator, s *arrow.Schema) []arrow.Array {
	cols := make([]arrow.Array, s.NumFields())
	for i, f := range s.Fields() {
		b := array.NewBuilder(mem, f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	return cols
}

func writeResult(w io.Writer, mem memory.Allocator, res array.RecordReader, format string) error {
	if format == "table" {
		return writeTable(w, res)
	}
	f := map[string]columnar.Format{"csv": columnar.FormatCSV, "json": columnar.FormatJSONL, "arrow": columnar.FormatIPCStream}[format]
	wr, err := columnar.NewWriter(w, f, res.Schema(), mem)
	if err != nil {
		return err
	}
	for res.Next() {
		if err := wr.Write(res.Record()); err != nil {
			_ = wr.Close()
			return err
		}
	}
	if err := res.Err(); err != nil {
		_ = wr.Close()
		return err
	}
	return wr.Close()
}

// writeTable prints the result as aligned text (it buffers the result).
func writeTable(w io.Writer, res array.RecordReader) error {
	schema := res.Schema()
	rows := [][]string{make([]string, schema.NumFields())}
	for i, f := range schema.Fields() {
		rows[0][i] = f.Name
	}
	for res.Next() {
		rec := res.Record()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]string, rec.NumCols())
			for c := range row {
				row[c] = cellText(rec.Column(c), r)
			}
			rows = append(rows, row)
		}
	}
	if err := res.Err(); err != nil {
		return err
	}
	widths := make([]int, schema.NumFields())
	for _, row := range rows {
		for c, s := range row {
			widths[c] = max(widths[c], len([]rune(s)))
		}
	}
	for i, row := range rows {
		var b strings.Builder
		for c, s := range row {
			if c > 0 {
				b.WriteString("  ")
			}
			b.WriteString(s)
			if c < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[c]-len([]rune(s))))
			}
		}
		b.WriteString("\n")
		if i == 0 {
			for c := range widths {
				if c > 0 {
					b.WriteString("  ")
				}
				b.WriteString(strings.Repeat("-", widths[c]))
			}
			b.WriteString("\n")
		}
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.String:
		return a.Value(i)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05.999999999")
	}
	return a.ValueStr(i)
}
