package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
)

// TestMain lets tests run the real binary entry point (exit codes, stderr,
// environment read at start-up) by re-executing the test binary.
func TestMain(m *testing.M) {
	if os.Getenv("VELO_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"velo"}, strings.Fields(os.Getenv("VELO_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// selfCommand returns a command that runs this test binary again. Under
// emulation (make test-arm64 runs arm64 test binaries with qemu-user, which
// the kernel cannot exec directly without binfmt_misc), VELO_TEST_EXEC names
// the wrapper to run it through.
func selfCommand(t *testing.T) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	if w := os.Getenv("VELO_TEST_EXEC"); w != "" {
		return exec.Command(w, exe, "-test.run=^$")
	}
	return exec.Command(exe, "-test.run=^$")
}

func runCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	cmd := selfCommand(t)
	cmd.Env = append(os.Environ(), append(env, "VELO_TEST_RUN_MAIN=1", "VELO_TEST_ARGS="+strings.Join(args, " "))...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	}
	require.NoError(t, err)
	return o.String(), e.String(), 0
}

func TestGenWritesEveryFormatIdenticalToGenerator(t *testing.T) {
	dir := t.TempDir()
	for _, ext := range []string{".parquet", ".arrow", ".arrows", ".csv", ".jsonl"} {
		t.Run(ext, func(t *testing.T) {
			out := filepath.Join(dir, "md"+ext)
			_, stderr, code := runCLI(t, nil, "gen", "market_data", "--rows", "20000", "--seed", "7", "--batch-size", "3000", "--out", out)
			require.Equal(t, 0, code, stderr)
			require.Contains(t, stderr, "wrote 20000 rows")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				require.NotContains(t, e.Name(), ".tmp", "temporary file left behind")
			}

			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rdr, err := columnar.OpenFile(out, mem, columnar.WithSchema(bench.MarketDataSchema()))
			require.NoError(t, err)
			defer rdr.Close()
			gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: 20000, Seed: 7, BatchSize: 3000})
			defer gen.Release()
			want, err := gen.GenerateAll()
			require.NoError(t, err)
			wantTbl := array.NewTableFromRecords(bench.MarketDataSchema(), want)
			for _, r := range want {
				r.Release()
			}
			defer wantTbl.Release()
			var got []arrow.Record
			for rdr.Next() {
				r := rdr.Record()
				r.Retain()
				got = append(got, r)
			}
			require.NoError(t, rdr.Err())
			gotTbl := array.NewTableFromRecords(rdr.Schema(), got)
			for _, r := range got {
				r.Release()
			}
			defer gotTbl.Release()
			require.Equal(t, wantTbl.NumRows(), gotTbl.NumRows())
			for c := 0; c < int(wantTbl.NumCols()); c++ {
				require.True(t, array.ChunkedEqual(wantTbl.Column(c).Data(), gotTbl.Column(c).Data()),
					"column %s differs after %s round trip", wantTbl.Schema().Field(c).Name, ext)
			}
		})
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown data set", nil, []string{"gen", "orders", "--out", filepath.Join(dir, "x.csv")}, `unknown data set "orders"`},
		{"bad extension", nil, []string{"gen", "market_data", "--out", filepath.Join(dir, "x.xlsx")}, ".xlsx"},
		{"missing out", nil, []string{"gen", "market_data"}, `"out" not set`},
		{"negative rows", nil, []string{"gen", "market_data", "--rows", "-1", "--out", filepath.Join(dir, "x.csv")}, "--rows must be >= 0"},
		{"unwritable", nil, []string{"gen", "market_data", "--rows", "10", "--out", filepath.Join(dir, "no/such/dir/x.csv")}, "no/such/dir"},
		{"bad kernel level", []string{"VELO_KERNELS=sse9"}, []string{"version"}, "VELO_KERNELS=sse9"},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, c.env, c.args...)
			require.NotEqual(t, 0, code)
			require.Contains(t, stderr, c.want)
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	stdout, stderr, code := runCLI(t, nil, "version")
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{"velo", "go1.", "cpu", "kernels"} {
		require.Contains(t, stdout, want)
	}
	stdout, _, code = runCLI(t, []string{"VELO_KERNELS=generic"}, "version")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "kernels     generic")

	root := newRootCmd()
	for _, c := range append(root.Commands(), root) {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		require.NotEmpty(t, c.Example, "command %q needs an example in --help", c.Name())
	}
}

func TestDemo(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, runDemo(&buf, 50_000, 42))
	out := buf.String()
	for _, want := range []string{"generated 50000 market_data rows", "first rows:", "trade_time", "SYM0", "column summary:",
		"scenarios over 50000 rows through SQL", "S2h — GROUP BY, 100,000 groups", "trade_count", "total_quantity"} {
		require.Contains(t, out, want)
	}
	// Every scenario has a row in the rows/s table: numbers or "unsupported".
	for _, id := range bench.ScenarioIDs() {
		require.Regexp(t, `(?m)^`+id+`\s+.*\s(\d+\.\d{3}|unsupported)\s+(\d+\.\d{3}|unsupported)?\s*(\d+|-)$`, out)
	}
}
