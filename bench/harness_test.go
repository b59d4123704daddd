package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/columnar"
)

// oracle computes S0's and S2/S2h's result row counts straight from the rows.
func oracle(recs []arrow.Record) (s0, symbols, traders int64) {
	syms := map[string]bool{}
	trs := map[int64]bool{}
	for _, r := range recs {
		sym := r.Column(1).(*array.String)
		tr := r.Column(2).(*array.Int64)
		pr := r.Column(3).(*array.Float64)
		for i := 0; i < int(r.NumRows()); i++ {
			if pr.Value(i) > 100.0 {
				s0++
			}
			syms[sym.Value(i)] = true
			trs[tr.Value(i)] = true
		}
	}
	return s0, int64(len(syms)), int64(len(trs))
}

func TestRunMeasuresEveryScenario(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const rows = 20_000
	cfg := Config{Rows: rows, Seed: 42, Partitions: []int{1, 2}, Reps: 2, Warmup: 1, BatchSize: 3000, Mem: mem, ControlWork: 1 << 12}
	var steps []int
	cfg.Progress = func(done, total int, _ string) {
		require.Equal(t, len(ScenarioIDs())*2*3, total)
		steps = append(steps, done)
	}
	rep, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.NoError(t, rep.Failed())
	require.Len(t, rep.Results, len(ScenarioIDs())*2)
	require.Equal(t, len(ScenarioIDs())*2*3, steps[len(steps)-1], "progress reaches the total")

	recs, _, err := LoadData(Config{Rows: rows, Seed: 42, BatchSize: 3000, Mem: mem})
	require.NoError(t, err)
	s0, syms, traders := oracle(recs)
	ReleaseAll(recs)
	wantOut := map[string]int64{"S0": s0, "S2": syms, "S2h": traders}

	for i, r := range rep.Results {
		require.Equal(t, ScenarioIDs()[i/2], r.Scenario)
		require.Equal(t, []int{1, 2}[i%2], r.Partitions)
		require.Equal(t, int64(rows), r.Rows)
		if r.Status == StatusOK && streamsPerBatch(r.Scenario) && r.Partitions == 1 {
			require.NotNil(t, r.LatencyP99Ms, "%s ×1 measures continuous-mode latency", r.Scenario)
			require.LessOrEqual(t, *r.LatencyP50Ms, *r.LatencyP95Ms)
			require.LessOrEqual(t, *r.LatencyP95Ms, *r.LatencyP99Ms)
			require.Greater(t, *r.LatencyP50Ms, 0.0)
			require.Empty(t, r.LatencyNote)
		} else {
			require.Nil(t, r.LatencyP99Ms, "%s ×%d: latency must not be invented", r.Scenario, r.Partitions)
			require.NotEmpty(t, r.LatencyNote)
		}
		require.NotEmpty(t, r.KernelLevel)
		require.NotEmpty(t, r.GoVersion)
		switch r.Status {
		case StatusOK:
			require.Empty(t, r.Error)
			require.NotNil(t, r.RowsPerSec)
			require.LessOrEqual(t, *r.RowsPerSecMin, *r.RowsPerSec)
			require.LessOrEqual(t, *r.RowsPerSec, *r.RowsPerSecMax)
			require.Greater(t, *r.RowsPerSecMin, 0.0)
			require.NotNil(t, r.BytesPerRow)
			if want, ok := wantOut[r.Scenario]; ok {
				require.Equal(t, want, *r.OutputRows, r.Scenario)
			}
		case StatusUnsupported:
			require.Contains(t, []string{"S1", "S3a", "S3b"}, r.Scenario, "only windowed scenarios may be unsupported")
			require.NotEmpty(t, r.Error)
			require.Nil(t, r.RowsPerSec)
			require.Nil(t, r.BytesPerRow)
			require.Nil(t, r.ScalingEfficiency)
		default:
			t.Fatalf("%s ×%d: status %q", r.Scenario, r.Partitions, r.Status)
		}
		if r.Partitions == 1 {
			require.Equal(t, 1.0, r.ControlSpeedup)
			require.Nil(t, r.ScalingEfficiency)
		} else {
			// Measured results carry the control run next to their
			// reps; the others the run's.
			require.Greater(t, r.ControlSpeedup, 0.0)
			if r.Status != StatusOK {
				require.Equal(t, rep.Control[2], r.ControlSpeedup)
			}
			if r.Status == StatusOK {
				one := rep.Results[i-1]
				want := *r.RowsPerSec / *one.RowsPerSec / r.ControlSpeedup
				require.InDelta(t, want, *r.ScalingEfficiency, 1e-12)
				require.InDelta(t, *r.RowsPerSec / *one.RowsPerSec / 2, *r.LinearEfficiency, 1e-12)
			}
		}
	}
	for _, id := range []string{"S0", "S2", "S2h"} {
		require.Equal(t, StatusOK, rep.Results[indexOf(ScenarioIDs(), id)*2].Status, id)
	}
}

func indexOf(ids []string, id string) int {
	for i, s := range ids {
		if s == id {
			return i
		}
	}
	return -1
}

func TestRunOneReportsUnsupportedAndFailed(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := Config{Rows: 5000, Reps: 2, BatchSize: 1000, Mem: mem}
	require.NoError(t, cfg.normalize())
	recs, rows, err := LoadData(cfg)
	require.NoError(t, err)
	defer ReleaseAll(recs)
	steps := 0
	for _, tc := range []struct {
		name, sql, status, errPart string
	}{
		{"unknown function", "SELECT NO_SUCH_FUNCTION(price) FROM market_data", StatusUnsupported, "NO_SUCH_FUNCTION"},
		{"unknown column", "SELECT no_such_column FROM market_data", StatusUnsupported, "no_such_column"},
		{"run-time overflow", "SELECT SUM(quantity * 9223372036854775807) AS s FROM market_data", StatusError, "overflow"},
		{"ok", "SELECT COUNT(*) AS n FROM market_data", StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runOne(context.Background(), cfg, Scenario{ID: "X", SQL: tc.sql}, 1, recs, rows, func() { steps++ })
			require.Equal(t, tc.status, res.Status, res.Error)
			require.Contains(t, strings.ToLower(res.Error), strings.ToLower(tc.errPart))
			if tc.status != StatusOK {
				require.Nil(t, res.RowsPerSec)
				require.Nil(t, res.OutputRows)
			} else {
				require.Equal(t, int64(1), *res.OutputRows)
			}
		})
	}
	rep := Report{Results: []Result{{Scenario: "S9", Partitions: 2, Status: StatusError, Error: "boom"}, {Scenario: "S1", Status: StatusUnsupported, Error: "later"}}}
	err = rep.Failed()
	require.ErrorIs(t, err, ErrFailed)
	require.Contains(t, err.Error(), "S9 at 2 partitions: boom")
	require.NotContains(t, err.Error(), "later", "unsupported is not a failure")
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Rows: 10, Reps: 1, Scenarios: []string{"S7"}}, `unknown scenario "S7"`},
		{Config{Rows: 10, Reps: 1, Partitions: []int{0}}, "partitions must be >= 1"},
		{Config{Rows: 10, Reps: 0}, "reps must be >= 1"},
		{Config{Rows: 10, Reps: 1, Warmup: -1}, "warmup must be >= 0"},
		{Config{Rows: 0, Reps: 1}, "rows must be >= 1"},
		{Config{Rows: 10, Reps: 1, Data: filepath.Join(t.TempDir(), "missing.parquet")}, "missing.parquet"},
	} {
		_, err := Run(context.Background(), tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
}

func TestLookupScenarioIsCaseInsensitiveAndExact(t *testing.T) {
	s, err := LookupScenario("s2H")
	require.NoError(t, err)
	require.Equal(t, "S2h", s.ID)
	require.Contains(t, s.SQL, "GROUP BY trader_id")
	require.Equal(t, []string{"S0", "S1", "S2", "S2h", "S3a", "S3b"}, ScenarioIDs())
	s3a, _ := LookupScenario("S3a")
	s3b, _ := LookupScenario("S3b")
	require.Equal(t, strings.Replace(s3a.SQL, "EMIT FINAL", "EMIT CHANGES", 1), s3b.SQL)
}

func TestControlSpeedup(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	// 2 goroutines do twice the work: medians 11 ms and 12 ms → 2 × 11/12.
	require.InDelta(t, 2*11.0/12.0, ControlSpeedup(ms(10, 12, 11), ms(13, 11, 12), 2), 1e-12)
	// Perfect scaling: same wall time for twice the work.
	require.InDelta(t, 2.0, ControlSpeedup(ms(20, 20), ms(20, 20), 2), 1e-12)
	// Even counts take the mean of the middle two: t1 (10+30)/2, t4 (40+40)/2.
	require.InDelta(t, 4*20.0/40.0, ControlSpeedup(ms(5, 10, 30, 99), ms(40, 40, 1, 100), 4), 1e-12)
	require.Equal(t, 1.0, MeasureControl(1, 3, 100))
	sp := MeasureControl(2, 3, 1<<14)
	require.Greater(t, sp, 0.0)
	// The loop is deterministic: one goroutine's result is reproducible.
	require.Equal(t, controlLoop(1, 1000), controlLoop(1, 1000))
	require.NotEqual(t, controlLoop(1, 1000), controlLoop(1, 1001))
}

func TestMedianAndTiming(t *testing.T) {
	require.True(t, Median(nil) != Median(nil), "NaN for no values")
	require.Equal(t, 3.0, Median([]float64{5, 1, 3}))
	require.Equal(t, 2.5, Median([]float64{4, 1, 3, 2}))
	tm := Timing{Durations: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, AllocBytes: []uint64{100, 300, 200}}
	med, lo, hi := tm.Throughput(1000)
	require.Equal(t, 500.0, med)
	require.Equal(t, 250.0, lo)
	require.Equal(t, 1000.0, hi)
	require.Equal(t, 0.2, tm.BytesPerRow(1000))

	calls := 0
	got, err := Measure(2, 3, func() (int64, error) { calls++; return int64(calls), nil }, nil)
	require.NoError(t, err)
	require.Equal(t, 5, calls)
	require.Len(t, got.Durations, 3)
	require.Len(t, got.AllocBytes, 3)
	require.Equal(t, int64(5), got.OutputRows)

	// measure's before runs ahead of each timed rep only, outside the
	// timing.
	var order []string
	got, err = measure(2, 3, func() (int64, error) { order = append(order, "run"); return 1, nil },
		func() { order = append(order, "before"); time.Sleep(20 * time.Millisecond) }, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"run", "run", "before", "run", "before", "run", "before", "run"}, order)
	for _, d := range got.Durations {
		require.Less(t, d, 20*time.Millisecond, "before is not timed")
	}
}

// sample is a report with one measured, one scaled and one unsupported result.
func sample() Report {
	env := Env{CPU: "Test CPU", KernelLevel: "avx2", GoVersion: "go1.26", GOOS: "linux", GOARCH: "amd64", GOMAXPROCS: 2, NumCPU: 2}
	out := int64(999)
	return Report{Env: env, Control: map[int]float64{1: 1, 2: 1.6}, Results: []Result{
		{Scenario: "S0", Partitions: 1, Rows: 1000, Status: StatusOK, Reps: 3, OutputRows: &out,
			RowsPerSec: fptr(123_456_789.0), RowsPerSecMin: fptr(100_000_000.0), RowsPerSecMax: fptr(130_000_000.0),
			BytesPerRow: fptr(12.5), ControlSpeedup: 1, LatencyNote: LatencyAtEndOnly, Env: env},
		{Scenario: "S0", Partitions: 2, Rows: 1000, Status: StatusOK, Reps: 3, OutputRows: &out,
			RowsPerSec: fptr(200_000_000.0), RowsPerSecMin: fptr(190_000_000.0), RowsPerSecMax: fptr(210_000_000.0),
			BytesPerRow: fptr(14.0), ControlSpeedup: 1.6, ScalingEfficiency: fptr(200 / 123.456789 / 1.6), LinearEfficiency: fptr(200 / 123.456789 / 2),
			LatencyNote: LatencyAtEndOnly, Env: env},
		{Scenario: "S1", Partitions: 1, Rows: 1000, Status: StatusUnsupported, Error: "exec: OVER not supported yet", Reps: 3, ControlSpeedup: 1, Env: env},
	}}
}

func TestJSONHasEveryFieldAndMatchesTable(t *testing.T) {
	rep := sample()
	var js, tab bytes.Buffer
	require.NoError(t, WriteJSON(&js, rep))
	require.NoError(t, WriteTable(&tab, rep))

	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	require.Len(t, lines, 3)
	required := []string{"scenario", "partitions", "rows", "rows_per_sec", "rows_per_sec_min", "rows_per_sec_max",
		"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "bytes_per_row", "kernel_level", "control_speedup",
		"scaling_efficiency", "status", "cpu", "go_version", "gomaxprocs"}
	tableRows := map[string][]string{}
	for _, l := range strings.Split(tab.String(), "\n") {
		f := strings.Fields(l)
		if len(f) >= 11 && strings.HasPrefix(f[0], "S") {
			tableRows[f[0]+"/"+f[1]] = f
		}
	}
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		for _, k := range required {
			require.Contains(t, m, k, "field %s", k)
		}
		require.Nil(t, m["latency_p99_ms"])
		key := m["scenario"].(string) + "/" + strconv.Itoa(int(m["partitions"].(float64)))
		row, ok := tableRows[key]
		require.True(t, ok, "table has %s", key)
		for i, k := range []string{"rows_per_sec", "rows_per_sec_min", "rows_per_sec_max"} {
			if m[k] == nil {
				require.Equal(t, "-", row[3+i])
				continue
			}
			require.Equal(t, strconv.FormatFloat(m[k].(float64)/1e6, 'f', 3, 64), row[3+i], "%s %s", key, k)
		}
		if m["bytes_per_row"] != nil {
			require.Equal(t, strconv.FormatFloat(m["bytes_per_row"].(float64), 'f', 1, 64), row[6])
		}
		require.Equal(t, strconv.FormatFloat(m["control_speedup"].(float64), 'f', 3, 64), row[8])
		if m["scaling_efficiency"] == nil {
			require.Equal(t, "-", row[9])
		} else {
			require.Equal(t, strconv.FormatFloat(m["scaling_efficiency"].(float64), 'f', 3, 64), row[9])
		}
		require.Equal(t, m["status"], row[10])
	}
	require.Contains(t, tab.String(), "S1 ×1 unsupported: exec: OVER not supported yet")
	require.Contains(t, tab.String(), "Test CPU")

	back, err := ReadJSON(&js)
	require.NoError(t, err)
	require.Equal(t, rep.Results, back, "JSON round-trips")
}

func TestCompareTwoFiles(t *testing.T) {
	dir := t.TempDir()
	old := sample()
	cur := sample()
	cur.Results[0].RowsPerSec = fptr(246_913_578.0) // 2× S0 ×1
	cur.Results[0].BytesPerRow = fptr(25.0)         // 2× the bytes
	cur.Results[1].RowsPerSec = fptr(100_000_000.0) // 0.5× S0 ×2
	cur.Results = append(cur.Results, Result{Scenario: "S2", Partitions: 1, Status: StatusOK, RowsPerSec: fptr(1.0)})
	write := func(name string, rep Report) string {
		var b bytes.Buffer
		require.NoError(t, WriteJSON(&b, rep))
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
		return p
	}
	read := func(p string) []Result {
		f, err := os.Open(p)
		require.NoError(t, err)
		defer f.Close()
		rs, err := ReadJSON(f)
		require.NoError(t, err)
		return rs
	}
	o, n := read(write("old.json", old)), read(write("new.json", cur))
	cs := Compare(o, n)
	require.Len(t, cs, 3, "S2 is only in the new run")
	require.InDelta(t, 2.0, *cs[0].Ratio, 1e-12)
	require.InDelta(t, 2.0, *cs[0].BytesRatio, 1e-12)
	require.InDelta(t, 0.5, *cs[1].Ratio, 1e-12)
	require.Nil(t, cs[2].Ratio, "unsupported on both sides")
	var out bytes.Buffer
	require.NoError(t, WriteCompare(&out, o, n))
	require.Regexp(t, `S0\s+1\s+123\.457\s+246\.914\s+2\.000\s+2\.000`, out.String())
	require.Regexp(t, `S0\s+2\s+200\.000\s+100\.000\s+0\.500`, out.String())
	require.Regexp(t, `S1\s+1\s+-\s+-\s+-`, out.String())

	require.ErrorContains(t, WriteCompare(&out, o, []Result{{Scenario: "S9", Partitions: 1}}), "no scenario")
	_, err := ReadJSON(strings.NewReader("{\"scenario\":\"S0\",\"partitions\":1}\nnot json\n"))
	require.ErrorContains(t, err, "line 2")
	_, err = ReadJSON(strings.NewReader("{\"x\":1}\n"))
	require.ErrorContains(t, err, "not a velo bench result")
}

func TestWritePlot(t *testing.T) {
	dir := t.TempDir()
	rep := sample()
	series := SeriesFromResults(rep.Results)
	require.Len(t, series, 2)
	require.Equal(t, "Velo ×1", series[0].Label)
	require.Equal(t, 123_456_789.0, series[0].Values["S0"])
	_, has := series[0].Values["S1"]
	require.False(t, has, "unsupported results draw no bar")
	for _, name := range []string{"p.png", "p.svg"} {
		p := filepath.Join(dir, name)
		require.NoError(t, WritePlot(p, "test", []string{"S0", "S1"}, series))
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NotEmpty(t, b)
		if name == "p.png" {
			require.Equal(t, "\x89PNG", string(b[:4]))
		} else {
			require.Contains(t, string(b), "<svg")
		}
	}
	require.ErrorContains(t, WritePlot(filepath.Join(dir, "p.gif"), "t", []string{"S0"}, series), "want a .png or .svg")
}

// valueHash is an xxhash of every value in row order (schema metadata,
// which a Parquet round trip may change, is not hashed).
func valueHash(recs []arrow.Record) uint64 {
	d := xxhash.New()
	var buf [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		_, _ = d.Write(buf[:])
	}
	for _, r := range recs {
		tt, sym, tr := r.Column(0).(*array.Int64), r.Column(1).(*array.String), r.Column(2).(*array.Int64)
		pr, q := r.Column(3).(*array.Float64), r.Column(4).(*array.Int64)
		for i := 0; i < int(r.NumRows()); i++ {
			put(uint64(tt.Value(i)))
			_, _ = d.WriteString(sym.Value(i))
			put(uint64(tr.Value(i)))
			put(math.Float64bits(pr.Value(i)))
			put(uint64(q.Value(i)))
		}
	}
	return d.Sum64()
}

func TestLoadDataFromFile(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs, rows, err := LoadData(Config{Rows: 7000, Seed: 3, BatchSize: 2000, Mem: mem})
	require.NoError(t, err)
	defer ReleaseAll(recs)
	require.Equal(t, int64(7000), rows)
	path := filepath.Join(t.TempDir(), "md.parquet")
	w, err := columnar.CreateFile(path, MarketDataSchema(), mem)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())

	loaded, n, err := LoadData(Config{Data: path, BatchSize: 3000, Mem: mem})
	require.NoError(t, err)
	defer ReleaseAll(loaded)
	require.Equal(t, int64(7000), n)
	require.Equal(t, valueHash(recs), valueHash(loaded), "the file holds the generated rows")

	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable(MarketDataTable, loaded))
	out, err := RunQuery(context.Background(), eng, "SELECT COUNT(*) AS n FROM market_data")
	require.NoError(t, err)
	require.Equal(t, int64(1), out)
}

func TestPercentile(t *testing.T) {
	require.Equal(t, 0.0, Percentile(nil, 0.5))
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	require.Equal(t, 5.0, Percentile(xs, 0.50)) // nearest rank: ceil(0.5·10) = 5th smallest
	require.Equal(t, 10.0, Percentile(xs, 0.95))
	require.Equal(t, 10.0, Percentile(xs, 0.99))
	require.Equal(t, 1.0, Percentile(xs, 0.01))
	require.Equal(t, 7.0, Percentile([]float64{7}, 0.99))
}
