package exec_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/kernels"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files (review every change by hand)")

// goldenCase is one case of a golden file:
//
//	query|error [batch=N]
//	SQL (one or more lines)
//	----
//	expected output (header line, then rows "a | b"; or the error text)
//	<blank line>
type goldenCase struct {
	kind     string
	batch    int
	sql      string
	expected string
	line     int
}

func parseGolden(t *testing.T, text string) []goldenCase {
	var cases []goldenCase
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		c := goldenCase{kind: f[0], batch: 3, line: i + 1}
		require.Contains(t, []string{"query", "error"}, c.kind, "line %d: unknown directive %q", i+1, l)
		for _, arg := range f[1:] {
			if v, ok := strings.CutPrefix(arg, "batch="); ok {
				n, err := strconv.Atoi(v)
				require.NoError(t, err, "line %d", i+1)
				c.batch = n
			}
		}
		i++
		var sql []string
		for ; i < len(lines) && lines[i] != "----"; i++ {
			sql = append(sql, lines[i])
		}
		c.sql = strings.Join(sql, "\n")
		i++
		var exp []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			exp = append(exp, lines[i])
		}
		c.expected = strings.Join(exp, "\n")
		cases = append(cases, c)
	}
	return cases
}

func renderGolden(cases []goldenCase) string {
	var b strings.Builder
	for _, c := range cases {
		b.WriteString(c.kind)
		if c.batch != 3 {
			b.WriteString(" batch=")
			b.WriteString(strconv.Itoa(c.batch))
		}
		b.WriteString("\n" + c.sql + "\n----\n" + c.expected + "\n\n")
	}
	return b.String()
}

// runGolden runs one case and returns its actual output.
func runGolden(t *testing.T, c goldenCase) string {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tables := testTables(mem)
	defer releaseTables(tables)
	recs, schema, err := runSQL(context.Background(), mem, tables, c.sql, c.batch)
	if err != nil {
		return "ERROR: " + err.Error()
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	return strings.TrimRight(formatResult(schema, recs), "\n")
}

// TestGolden runs every exec/testdata/*.test file once per kernel level
// this CPU supports. With -update the expectations are rewritten from the
// generic level's results; every change must then be checked by hand.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		cases := parseGolden(t, string(data))
		if *update {
			for i := range cases {
				got := runGolden(t, cases[i])
				if cases[i].kind == "error" {
					got = strings.TrimPrefix(got, "ERROR: ")
				}
				cases[i].expected = got
			}
			require.NoError(t, os.WriteFile(file, []byte(renderGolden(cases)), 0o644))
			continue
		}
		for _, level := range kernels.SupportedLevels() {
			t.Run(filepath.Base(file)+"/"+level.String(), func(t *testing.T) {
				restore, err := kernels.SetLevel(level)
				require.NoError(t, err)
				defer restore()
				for _, c := range cases {
					got := runGolden(t, c)
					if c.kind == "error" {
						require.True(t, strings.HasPrefix(got, "ERROR: "), "%s:%d: expected an error for\n%s\ngot\n%s", file, c.line, c.sql, got)
						require.Contains(t, got, c.expected, "%s:%d: %s", file, c.line, c.sql)
						continue
					}
					require.Equal(t, c.expected, got, "%s:%d: %s", file, c.line, c.sql)
				}
			})
		}
	}
}
