package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// FormatMRows formats rows/s as millions with three decimals, the precision
// the table prints (nil prints as "-").
func FormatMRows(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *v/1e6)
}

func formatOpt(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

// WriteEnv prints the environment line.
func WriteEnv(w io.Writer, env Env) error {
	_, err := fmt.Fprintf(w, "CPU: %s | kernels: %s | %s %s/%s | GOMAXPROCS %d | NumCPU %d\n",
		env.CPU, env.KernelLevel, env.GoVersion, env.GOOS, env.GOARCH, env.GOMAXPROCS, env.NumCPU)
	return err
}

// WriteTable prints the report as an aligned human table: throughput in
// M input rows/s (median, min, max), bytes allocated per row, the control
// speed-up and the scaling efficiency; unsupported and failed scenarios
// are listed with their errors below the table.
func WriteTable(w io.Writer, rep Report) error {
	if err := WriteEnv(w, rep.Env); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tpartitions\trows\tMrows/s med\tmin\tmax\tB/row\tout rows\tcontrol×\tscaling eff\tstatus\t")
	var notes []string
	for _, r := range rep.Results {
		out := "-"
		if r.OutputRows != nil {
			out = fmt.Sprint(*r.OutputRows)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\t\n",
			r.Scenario, r.Partitions, r.Rows, FormatMRows(r.RowsPerSec), FormatMRows(r.RowsPerSecMin), FormatMRows(r.RowsPerSecMax),
			formatOpt(r.BytesPerRow, "%.1f"), out, r.ControlSpeedup, formatOpt(r.ScalingEfficiency, "%.3f"), r.Status)
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("%s ×%d %s: %s", r.Scenario, r.Partitions, r.Status, r.Error))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Results {
		if r.LatencyP99Ms != nil {
			fmt.Fprintf(w, "%s ×%d continuous-mode latency per pushed batch p50/p95/p99: %.3f / %.3f / %.3f ms\n",
				r.Scenario, r.Partitions, *r.LatencyP50Ms, *r.LatencyP95Ms, *r.LatencyP99Ms)
		}
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON prints one JSON object per line per result.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	for _, r := range rep.Results {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("bench: encoding %s ×%d: %w", r.Scenario, r.Partitions, err)
		}
	}
	return nil
}

// ReadJSON reads results written by WriteJSON (blank lines are skipped).
func ReadJSON(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(b), &res); err != nil {
			return nil, fmt.Errorf("bench: line %d: %w", line, err)
		}
		if res.Scenario == "" || res.Partitions < 1 {
			return nil, fmt.Errorf("bench: line %d: not a velo bench result (scenario %q, partitions %d)", line, res.Scenario, res.Partitions)
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bench: reading results: %w", err)
	}
	return out, nil
}

// Comparison is one (scenario, partitions) pair present in both runs.
type Comparison struct {
	Scenario   string
	Partitions int
	Old, New   *float64 // median rows/s
	// Ratio is New ÷ Old rows/s; nil when either was not measured.
	Ratio *float64
	// BytesRatio is New ÷ Old bytes per row; nil when either is missing or Old is 0.
	BytesRatio *float64
}

// Compare pairs results by scenario and partitions, in the new run's order;
// pairs found in only one run are left out.
func Compare(old, cur []Result) []Comparison {
	type key struct {
		s string
		p int
	}
	idx := map[key]Result{}
	for _, r := range old {
		idx[key{r.Scenario, r.Partitions}] = r
	}
	var out []Comparison
	for _, r := range cur {
		o, ok := idx[key{r.Scenario, r.Partitions}]
		if !ok {
			continue
		}
		c := Comparison{Scenario: r.Scenario, Partitions: r.Partitions, Old: o.RowsPerSec, New: r.RowsPerSec}
		if c.Old != nil && c.New != nil && *c.Old > 0 {
			c.Ratio = fptr(*c.New / *c.Old)
		}
		if o.BytesPerRow != nil && r.BytesPerRow != nil && *o.BytesPerRow > 0 {
			c.BytesRatio = fptr(*r.BytesPerRow / *o.BytesPerRow)
		}
		out = append(out, c)
	}
	return out
}

// WriteCompare prints Compare(old, cur) as a table of new ÷ old ratios.
func WriteCompare(w io.Writer, old, cur []Result) error {
	cs := Compare(old, cur)
	if len(cs) == 0 {
		return fmt.Errorf("bench: compare: no scenario × partitions pair is in both runs")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tpartitions\told Mrows/s\tnew Mrows/s\tnew/old\tB/row new/old\t")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", c.Scenario, c.Partitions, FormatMRows(c.Old), FormatMRows(c.New),
			formatOpt(c.Ratio, "%.3f"), formatOpt(c.BytesRatio, "%.3f"))
	}
	return tw.Flush()
}

// sortedPartitions returns the distinct partition counts of rs, ascending.
func sortedPartitions(rs []Result) []int {
	seen := map[int]bool{}
	var ps []int
	for _, r := range rs {
		if !seen[r.Partitions] {
			seen[r.Partitions] = true
			ps = append(ps, r.Partitions)
		}
	}
	sort.Ints(ps)
	return ps
}
