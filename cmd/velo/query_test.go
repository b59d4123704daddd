package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/bench"
)

// init runs the CLI when the test binary is re-executed by runQueryCLI:
// arguments travel JSON-encoded because SQL contains spaces.
func init() {
	if v := os.Getenv("VELO_TEST_QUERY_ARGS"); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			panic(err)
		}
		os.Args = append([]string{"velo"}, args...)
		main()
		os.Exit(0)
	}
}

func runQueryCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	enc, err := json.Marshal(args)
	require.NoError(t, err)
	cmd := selfCommand(t)
	cmd.Env = append(os.Environ(), "VELO_TEST_QUERY_ARGS="+string(enc))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	}
	require.NoError(t, err)
	return o.String(), e.String(), 0
}

func writeTestCSV(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "people.csv")
	require.NoError(t, os.WriteFile(path, []byte("name,age,score\nann,31,1.5\nbob,,0.1\ncleo,45,\n"), 0o644))
	return path
}

func TestQueryFormats(t *testing.T) {
	path := writeTestCSV(t)
	sql := "SELECT name, age, score * 3 AS s3 FROM people ORDER BY name"
	out, stderr, code := runQueryCLI(t, "query", "--table", "people="+path, sql)
	require.Equal(t, 0, code, stderr)
	// NULL is an empty field; 0.1*3 prints in shortest round-trip form.
	require.Equal(t, "name,age,s3\nann,31,4.5\nbob,,0.30000000000000004\ncleo,45,\n", out)

	out, stderr, code = runQueryCLI(t, "query", "--table", "people="+path, "--format", "json", sql)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	var row map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &row))
	require.Equal(t, "bob", row["name"])
	require.Nil(t, row["age"])

	out, stderr, code = runQueryCLI(t, "query", "--table", "people="+path, "--format", "table", sql)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "name  age   s3\n----  ----  -------------------\nann   31    4.5\nbob   NULL  0.30000000000000004\ncleo  45    NULL\n", out)

	out, stderr, code = runQueryCLI(t, "query", "--table", "people="+path, "--format", "arrow", sql)
	require.Equal(t, 0, code, stderr)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rdr, err := ipc.NewReader(strings.NewReader(out), ipc.WithAllocator(mem))
	require.NoError(t, err)
	defer rdr.Release()
	n := int64(0)
	for rdr.Next() {
		n += rdr.Record().NumRows()
	}
	require.NoError(t, rdr.Err())
	require.Equal(t, int64(3), n)
	require.Equal(t, arrow.FLOAT64, rdr.Schema().Field(2).Type.ID())
}

func TestQueryGenExplainAndErrors(t *testing.T) {
	out, stderr, code := runQueryCLI(t, "query", "--gen", "market_data:5000", "SELECT COUNT(*) AS n, COUNT(DISTINCT symbol) > 10 AS many FROM market_data")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "n,many\n5000,true\n", out)

	out, stderr, code = runQueryCLI(t, "query", "--gen", "market_data:10", "--explain", "SELECT price FROM market_data WHERE price > 100.0")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "Filter")
	require.Contains(t, out, "Scan market_data")

	_, stderr, code = runQueryCLI(t, "query", "--gen", "market_data:10", "SELECT prise FROM market_data")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, `1:8: column "prise" not found`)
	require.Contains(t, stderr, `did you mean "price"`)

	_, stderr, code = runQueryCLI(t, "query", "--table", "x", "SELECT 1")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "NAME=PATH")

	_, stderr, code = runQueryCLI(t, "query", "--gen", "market_data:10", "--format", "xml", "SELECT 1 FROM market_data")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "--format")

	_, stderr, code = runQueryCLI(t, "query", "--gen", "market_data:10", "SELECT quantity * 9223372036854775807 FROM market_data")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "integer overflow")

	out, _, code = runQueryCLI(t, "query", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "velo query --table md=md.parquet")
}

func TestGenerateSpec(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, c := range []struct {
		spec string
		rows int64
	}{{"market_data:0", 0}, {"market_data:1000", 1000}} {
		recs, err := generateSpec(mem, c.spec)
		require.NoError(t, err)
		require.NotEmpty(t, recs, "at least one record carries the schema")
		var n int64
		for _, r := range recs {
			require.True(t, r.Schema().Equal(bench.MarketDataSchema()))
			n += r.NumRows()
		}
		require.Equal(t, c.rows, n)
		releaseRecords(recs)
	}
	_, err := generateSpec(mem, "orders:10")
	require.ErrorContains(t, err, "only market_data[:rows]")
	_, err = generateSpec(mem, "market_data:-5")
	require.ErrorContains(t, err, "non-negative integer")
}
