package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/bench"
)

// requireReexec skips a test when the test binary cannot execute itself, as
// under user-mode emulation without binfmt_misc and without VELO_TEST_EXEC
// (exec format error).
func requireReexec(t *testing.T) {
	t.Helper()
	if err := selfCommand(t).Run(); errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot re-execute the test binary here: %v", err)
	}
}

// TestBenchInProcess runs the command's code path without re-executing, so
// it also runs where re-execution is impossible (qemu without binfmt).
func TestBenchInProcess(t *testing.T) {
	var out, errb bytes.Buffer
	o := benchOptions{scenarios: []string{"S0", "S1", "S2"}, rows: 20000, seed: 42, partitions: []int{1, 2}, reps: 2, warmup: 0,
		batchSize: 4096, json: true, progress: "never", control: 4096}
	require.NoError(t, runBench(context.Background(), &out, &errb, o))
	rs, err := bench.ReadJSON(&out)
	require.NoError(t, err)
	require.Len(t, rs, 6)
	for _, r := range rs {
		require.Contains(t, []string{bench.StatusOK, bench.StatusUnsupported}, r.Status, r.Error)
		if r.Scenario != "S1" {
			require.Equal(t, bench.StatusOK, r.Status)
			require.Positive(t, *r.RowsPerSec)
		}
	}
}

func TestBenchCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	var out, errb bytes.Buffer
	o := benchOptions{scenarios: []string{"S2"}, rows: 10000, seed: 1, partitions: []int{1}, reps: 1,
		batchSize: 4096, progress: "never", control: 4096, cpuProfile: prof}
	require.NoError(t, runBench(context.Background(), &out, &errb, o))
	require.Regexp(t, `S2\s+1\s+10000\s+\d+\.\d{3}`, out.String())
	st, err := os.Stat(prof)
	require.NoError(t, err)
	require.Positive(t, st.Size())
}

func TestBenchJSON(t *testing.T) {
	requireReexec(t)
	stdout, stderr, code := runCLI(t, nil, "bench", "--rows", "20000", "--reps", "2", "--json", "--control-work", "4096")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, len(bench.ScenarioIDs())*2, "every scenario at 1 and 2 partitions")
	seen := map[string]bool{}
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		for _, k := range []string{"scenario", "partitions", "rows", "rows_per_sec", "rows_per_sec_min", "rows_per_sec_max",
			"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "bytes_per_row", "kernel_level", "control_speedup", "scaling_efficiency", "status"} {
			require.Contains(t, m, k)
		}
		require.Equal(t, 20000.0, m["rows"])
		if m["status"] == bench.StatusOK {
			require.Greater(t, m["rows_per_sec"].(float64), 0.0)
		} else {
			require.Equal(t, bench.StatusUnsupported, m["status"])
			require.NotEmpty(t, m["error"])
		}
		seen[m["scenario"].(string)] = true
	}
	require.Len(t, seen, len(bench.ScenarioIDs()))

	// --compare on two files: the file against itself is 1.000 everywhere measured.
	path := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, os.WriteFile(path, []byte(stdout), 0o644))
	out, stderr, code := runCLI(t, nil, "bench", "--compare", path, path)
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `S0\s+1\s+\S+\s+\S+\s+1\.000`, out)
	require.Regexp(t, `S2\s+2\s+\S+\s+\S+\s+1\.000`, out)
}

func TestBenchTableAndPlot(t *testing.T) {
	requireReexec(t)
	plot := filepath.Join(t.TempDir(), "b.svg")
	stdout, stderr, code := runCLI(t, nil, "bench", "--rows", "10000", "--reps", "1", "--warmup", "0", "--scenarios", "S0,S2",
		"--partitions", "1", "--kernels", "generic", "--plot", plot, "--control-work", "4096")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "kernels: generic")
	require.Regexp(t, `S0\s+1\s+10000\s+`, stdout)
	require.Regexp(t, `S2\s+1\s+10000\s+`, stdout)
	require.NotContains(t, stdout, "S2h")
	b, err := os.ReadFile(plot)
	require.NoError(t, err)
	require.Contains(t, string(b), "<svg")
}

func TestBenchErrors(t *testing.T) {
	requireReexec(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("not json\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--scenarios", "S9"}, `unknown scenario "S9"`},
		{[]string{"bench", "--rows", "0"}, "rows must be >= 1"},
		{[]string{"bench", "--partitions", "0"}, "partitions must be >= 1"},
		{[]string{"bench", "--reps", "0"}, "reps must be >= 1"},
		{[]string{"bench", "--kernels", "sse9"}, "--kernels"},
		{[]string{"bench", "--plot", filepath.Join(dir, "x.gif")}, "want a .png or .svg"},
		{[]string{"bench", "--data", filepath.Join(dir, "missing.parquet")}, "missing.parquet"},
		{[]string{"bench", "--compare", bad, bad}, "line 1"},
		{[]string{"bench", filepath.Join(dir, "new.json")}, "needs --compare"},
	} {
		stdout, stderr, code := runCLI(t, nil, tc.args...)
		require.NotEqual(t, 0, code, "%v", tc.args)
		require.Contains(t, stderr, tc.want, "%v", tc.args)
		require.Empty(t, stdout, "%v", tc.args)
	}
}

func TestBenchHelp(t *testing.T) {
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"bench", "--help"})
	require.NoError(t, root.Execute())
	require.Contains(t, out.String(), "velo bench --rows 1000000 --reps 3")
	require.Contains(t, out.String(), "--compare")
}
