package sqlfront

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// parseCases map input SQL to its canonical printed form ("" = same text).
var parseCases = []struct{ in, want string }{
	// Standard core.
	{"SELECT a, b AS c, d e FROM t", "SELECT a, b AS c, d AS e FROM t"},
	{"select distinct * from T as x", "SELECT DISTINCT * FROM t AS x"},
	{"SELECT x.*, \"Mixed Case\" FROM t x", "SELECT x.*, \"Mixed Case\" FROM t AS x"},
	{"SELECT ALL a FROM t;", "SELECT a FROM t"},
	{"SELECT a FROM t WHERE a > 1 GROUP BY a HAVING COUNT(*) > 2 ORDER BY a DESC NULLS LAST, b NULLS FIRST LIMIT 10 OFFSET 5", ""},
	{"SELECT a FROM t OFFSET 3", ""},
	{"EXPLAIN SELECT a FROM t", ""},
	// Literals.
	{"SELECT 1, 2.5, 1e9, 'it''s', TRUE, FALSE, NULL, TIMESTAMP '2024-01-02 03:04:05', DATE '2024-01-02' FROM t", ""},
	{"SELECT INTERVAL '1' MINUTE, INTERVAL '10' seconds, interval '500' MILLISECOND, INTERVAL '1 minute', INTERVAL 2 HOUR, 1m, 500ms FROM t",
		"SELECT INTERVAL '1' MINUTE, INTERVAL '10' SECOND, INTERVAL '500' MILLISECOND, INTERVAL '1 minute', INTERVAL '2' HOUR, 1m, 500ms FROM t"},
	// Precedence: the printer keeps exactly the parentheses needed.
	{"SELECT a + b * c, (a + b) * c, a - (b - c), a - b - c, -a * b, -(a * b), - -a FROM t",
		"SELECT a + b * c, (a + b) * c, a - (b - c), a - b - c, -a * b, -(a * b), -(-a) FROM t"},
	{"SELECT a FROM t WHERE a OR b AND c", ""},
	{"SELECT a FROM t WHERE (a OR b) AND NOT c", ""},
	{"SELECT a FROM t WHERE NOT a = b", ""},
	{"SELECT a FROM t WHERE (NOT a) = b", ""},
	{"SELECT a || b + c, (a || b) + c FROM t", ""},
	{"SELECT a // b * c, a // (b * c), a % b // c FROM t", ""},
	{"SELECT a FROM t WHERE a = 1 = TRUE", ""},
	{"SELECT a FROM t WHERE a = (b = c)", ""},
	{"SELECT -x::bigint, (-x)::BIGINT, x::double precision FROM t",
		"SELECT -CAST(x AS BIGINT), CAST(-x AS BIGINT), CAST(x AS DOUBLE PRECISION) FROM t"},
	{"SELECT CAST(a AS VARCHAR(10)), CAST(b AS timestamp_ms) FROM t", "SELECT CAST(a AS VARCHAR(10)), CAST(b AS TIMESTAMP_MS) FROM t"},
	// Predicates.
	{"SELECT a FROM t WHERE a IN (1, 2, 3) AND b NOT IN ('x') AND c BETWEEN 1 AND 2 AND d NOT BETWEEN a + 1 AND 5 AND e LIKE 'a%' AND f NOT LIKE '_' AND g IS NULL AND h IS NOT NULL", ""},
	{"SELECT a FROM t WHERE a BETWEEN (b AND c) AND d", ""},
	{"SELECT a FROM t WHERE (a BETWEEN b AND c) = d", "SELECT a FROM t WHERE a BETWEEN b AND c = d"},
	{"SELECT a FROM t WHERE (a = b) IS NULL", "SELECT a FROM t WHERE a = b IS NULL"},
	{"SELECT CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' END, CASE a WHEN 1 THEN 'one' ELSE 'many' END FROM t", ""},
	// Calls.
	{"SELECT count(*), COUNT(DISTINCT a), coalesce(a, b, 0), substr(s, 1, 2), now() FROM t", "SELECT COUNT(*), COUNT(DISTINCT a), COALESCE(a, b, 0), SUBSTR(s, 1, 2), NOW() FROM t"},
	// Analytic windows.
	{"SELECT AVG(p) OVER (PARTITION BY s ORDER BY ts ROWS BETWEEN 99 PRECEDING AND CURRENT ROW) FROM t", ""},
	{"SELECT SUM(p) OVER (ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 2 FOLLOWING), SUM(p) OVER (ROWS 3 PRECEDING), SUM(p) OVER () FROM t", ""},
	{"SELECT AVG(p) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY s ORDER BY ts) FROM t", ""},
	{"SELECT AVG(p) OVER (PARTITION BY s ORDER BY ts ROWS WINDOW BUFFER 100 ROWS) FROM t", "SELECT AVG(p) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY s ORDER BY ts) FROM t"},
	{"SELECT LAG(p, 1, 0.0) OVER w, ROW_NUMBER() OVER w, rank() over w FROM t WINDOW w AS (PARTITION BY s ORDER BY ts), w2 AS (ORDER BY ts DESC)",
		"SELECT LAG(p, 1, 0.0) OVER w, ROW_NUMBER() OVER w, RANK() OVER w FROM t WINDOW w AS (PARTITION BY s ORDER BY ts), w2 AS (ORDER BY ts DESC)"},
	// Velostream time windows and streaming clauses, in any order after FROM.
	{"SELECT s, COUNT(*) FROM t GROUP BY s WINDOW TUMBLING(ts, INTERVAL '1' MINUTE) EMIT FINAL", ""},
	{"SELECT COUNT(*) FROM t WINDOW TUMBLING(1m)", ""},
	{"SELECT COUNT(*) FROM t WINDOW SLIDING(INTERVAL '10' SECOND, INTERVAL '2' SECOND) EMIT CHANGES", ""},
	{"SELECT COUNT(*) FROM t WINDOW SLIDING(ts, 10s, 2s)", ""},
	{"SELECT COUNT(*) FROM t WINDOW SESSION(INTERVAL '30' SECOND)", ""},
	{"SELECT COUNT(*) FROM t WINDOW SESSION(ts, 30s)", ""},
	{"SELECT s, COUNT(*) FROM t WINDOW TUMBLING(1m) WHERE p > 1 GROUP BY s EMIT CHANGES", "SELECT s, COUNT(*) FROM t WHERE p > 1 GROUP BY s WINDOW TUMBLING(1m) EMIT CHANGES"},
	{"SELECT s FROM t WITH ('partitions' = '8') EMIT CHANGES GROUP BY s", "SELECT s FROM t GROUP BY s EMIT CHANGES WITH ('partitions' = '8')"},
	{"SELECT s FROM t WITH ('partitions' = 8, 'watermark.max_out_of_orderness' = 5s, 'late.data.strategy' = drop)",
		"SELECT s FROM t WITH ('partitions' = '8', 'watermark.max_out_of_orderness' = '5s', 'late.data.strategy' = 'drop')"},
	// Flink/Calcite group windows are function calls in GROUP BY.
	{"SELECT s, window_start, TUMBLE_END(ts, INTERVAL '1' MINUTE) FROM t GROUP BY s, TUMBLE(ts, INTERVAL '1' MINUTE)", ""},
	{"SELECT COUNT(*) FROM t GROUP BY HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND), SESSION(ts, INTERVAL '30' SECOND)", ""},
	// Contextual keywords stay usable as names.
	{"SELECT rows, session, tumbling, interval, timestamp, first, last, partition FROM window_t", ""},
	{"SELECT \"select\", \"Group\" FROM \"from\"", ""},
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		stmt, err := Parse(c.in)
		require.NoError(t, err, c.in)
		want := c.want
		if want == "" {
			want = c.in
		}
		require.Equal(t, want, stmt.String(), c.in)
		requireRoundTrip(t, stmt)
	}
}

func TestParseBenchQueriesCanonical(t *testing.T) {
	for _, q := range benchQueries {
		stmt, err := Parse(q.sql)
		require.NoError(t, err, q.name)
		require.Equal(t, q.sql, stmt.String(), "BENCH.md %s is already canonical SQL", q.name)
		requireRoundTrip(t, stmt)
	}
}

func TestParseStructure(t *testing.T) {
	stmt, err := Parse("SELECT s FROM t GROUP BY s WINDOW SLIDING(ts, 10s, INTERVAL '2' SECOND) LIMIT 5")
	require.NoError(t, err)
	require.Equal(t, Sliding, stmt.Window.Kind)
	require.Equal(t, "ts", stmt.Window.TimeCol.(*ColumnRef).Name.Name)
	require.Equal(t, int64(10_000), stmt.Window.Args[0].(*DurationLit).Millis)
	require.Equal(t, "1:52", stmt.Window.Args[1].Pos().String())
	require.Equal(t, int64(5), *stmt.Limit)
	require.Nil(t, stmt.Offset)

	e, err := ParseExpr("a + b * c")
	require.NoError(t, err)
	add := e.(*BinaryExpr)
	require.Equal(t, "+", add.Op)
	require.Equal(t, "*", add.R.(*BinaryExpr).Op)
	require.Equal(t, "1:5", add.R.Pos().String())

	stmt, err = Parse("SELECT SUM(p) OVER (ROWS 3 PRECEDING) FROM t")
	require.NoError(t, err)
	f := stmt.Items[0].Expr.(*FuncCall).Over.Spec.Frame
	require.Equal(t, Frame{Start: FrameBound{Kind: Preceding, Offset: 3}, End: FrameBound{Kind: CurrentRow}, P: f.P}, *f)
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "1:1: expected SELECT, found end of input"},
		{"SELECT", "1:7: expected expression, found end of input"},
		{"SELECT a", "1:9: expected FROM, found end of input"},
		{"SELECT a FROM", "1:14: expected table name, found end of input"},
		{"SELECT a,\n  FROM t", "2:3: expected expression, found FROM"},
		{"SELECT a FROM t WHERE", "1:22: expected expression, found end of input"},
		{"SELECT a FROM t WHERE a +", "1:26: expected expression, found end of input"},
		{"SELECT (a FROM t", "1:11: expected ')', found FROM"},
		{"SELECT a FROM t ORDER BY a GROUP BY a", "1:28: GROUP BY must come before ORDER BY"},
		{"SELECT a FROM t WHERE a WHERE b", "1:25: duplicate WHERE clause"},
		{"SELECT a FROM t EMIT FINAL EMIT CHANGES", "1:28: duplicate EMIT clause"},
		{"SELECT a FROM t EMIT SOMETIMES", "1:22: expected CHANGES or FINAL, found identifier SOMETIMES"},
		{"SELECT a FROM t LIMIT x", "1:23: expected LIMIT count, found identifier x"},
		{"SELECT a FROM t LIMIT 99999999999999999999", "1:23: integer 99999999999999999999 out of range for LIMIT count"},
		{"SELECT a FROM t x y", "1:19: expected end of query, found identifier y"},
		{"SELECT a FROM t WINDOW TUMBLING(a, 1m, 2m)", "1:24: TUMBLING takes ([time_column,] size), got 3 arguments"},
		{"SELECT a FROM t WINDOW SLIDING(1m)", "1:24: SLIDING takes ([time_column,] size, slide), got 1 arguments"},
		{"SELECT a FROM t WINDOW TUMBLING(1m) WINDOW TUMBLING(2m)", "1:37: duplicate WINDOW TUMBLING clause: a query has at most one time window"},
		{"SELECT a FROM t WINDOW w (ORDER BY a)", "1:26: expected AS, found '('"},
		{"SELECT SUM(a) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM t", "1:50: frame ends before it starts"},
		{"SELECT SUM(a) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) FROM t", "1:34: frame start cannot be UNBOUNDED FOLLOWING"},
		{"SELECT SUM(a) OVER (ROWS 2 FOLLOWING) FROM t", "1:26: a single-bound frame must start at or before the current row; use ROWS BETWEEN"},
		{"SELECT SUM(a) OVER (RANGE UNBOUNDED PRECEDING) FROM t", "1:21: RANGE frames are not supported; use ROWS"},
		{"SELECT SUM(a) OVER (ROWS WINDOW BUFFER 0 ROWS) FROM t", "1:40: BUFFER size must be positive, got 0"},
		{"SELECT SUM(a) OVER (ROWS WINDOW BUFFER 10) FROM t", "1:42: expected ROWS, found ')'"},
		{"SELECT SUM(a) OVER (PARTITION s) FROM t", "1:31: expected BY, found identifier s"},
		{"SELECT SUM(a) OVER (x) FROM t", "1:21: expected PARTITION BY, ORDER BY, ROWS or ')', found identifier x"},
		{"SELECT CASE END FROM t", "1:13: expected WHEN, found END"},
		{"SELECT CAST(a AS 1) FROM t", "1:18: expected type name, found integer 1"},
		{"SELECT a IS 1 FROM t", "1:13: expected NULL, found integer 1"},
		{"SELECT a NOT IN 1 FROM t", "1:17: expected '(', found integer 1"},
		{"SELECT a BETWEEN 1 OR 2 FROM t", "1:20: expected AND, found OR"},
		{"SELECT INTERVAL '1' FORTNIGHT FROM t", "1:17: malformed interval '1' (want e.g. '1 minute' or INTERVAL '1' MINUTE)"},
		{"SELECT INTERVAL 1 FROM t", "1:19: expected interval unit (MILLISECOND, SECOND, MINUTE, HOUR, DAY), found FROM"},
		{"SELECT INTERVAL '2 fortnights' FROM t", "1:17: unknown interval unit \"fortnights\" in '2 fortnights' (want millisecond, second, minute, hour or day)"},
		{"SELECT 99999999999999999d FROM t", "1:8: duration 99999999999999999d is too long"},
		{"SELECT a FROM t WITH (partitions = 8)", "1:23: expected setting name as a 'string', found identifier partitions"},
		{"SELECT a FROM t WITH ('partitions' 8)", "1:36: expected '=', found integer 8"},
		{"SELECT a FROM t\nWHERE b = 'x\n", "2:11: unterminated string"},
		{"SELECT a + t.* FROM t", "1:14: expected column name, found '*'"},
		{"SELECT 1" + strings.Repeat("+1", 1001) + " FROM t", "1:2009: expression has too many operators in a row (more than 1000)"},
		{"SELECT " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300) + " FROM t", "1:264: expression nested too deeply (more than 256 levels)"},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		require.EqualError(t, err, c.want, c.in)
		var e *Error
		require.True(t, errors.As(err, &e), c.in)
		requireValidPos(t, c.in, e)
	}
}

// zeroPos clears every Pos in a syntax tree, in place.
func zeroPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			zeroPos(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(Pos{}) {
			if v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			zeroPos(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeroPos(v.Index(i))
		}
	}
}

// requireRoundTrip checks parse(print(stmt)) equals stmt, positions aside.
func requireRoundTrip(t testing.TB, stmt *SelectStmt) {
	t.Helper()
	printed := stmt.String()
	again, err := Parse(printed)
	require.NoError(t, err, "reparsing %q", printed)
	require.Equal(t, printed, again.String())
	zeroPos(reflect.ValueOf(stmt))
	zeroPos(reflect.ValueOf(again))
	require.Equal(t, stmt, again, "round trip of %q", printed)
}

// requireValidPos checks an error position lies inside src (or just past its
// last character).
func requireValidPos(t testing.TB, src string, e *Error) {
	t.Helper()
	lines := strings.Split(src, "\n")
	require.GreaterOrEqual(t, e.Line, 1, "%q: %v", src, e)
	require.LessOrEqual(t, e.Line, len(lines), "%q: %v", src, e)
	require.GreaterOrEqual(t, e.Col, 1, "%q: %v", src, e)
	require.LessOrEqual(t, e.Col, utf8.RuneCountInString(lines[e.Line-1])+1, "%q: %v", src, e)
}

func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.in)
	}
	for _, q := range benchQueries {
		f.Add(q.sql)
	}
	f.Add("SELECT a FROM t WHERE a BETWEEN 1 AND 2 AND b NOT LIKE 'x' -- c\n/* d */")
	for _, blk := range []string{
		"SELECT id, ts + 1s, CASE WHEN ok THEN score END FROM events WHERE name LIKE 'a%' ORDER BY 2 DESC",
		"SELECT symbol AS s, SUM(quantity) q, RANK() OVER (ORDER BY SUM(quantity)) FROM market_data GROUP BY s HAVING COUNT(*) > 1",
		"SELECT COUNT(*) FROM market_data GROUP BY HOP(trade_time, 1s, 1m) WITH ('partitions' = '2')",
	} {
		f.Add(blk)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmt, err := Parse(src)
		if err != nil {
			var e *Error
			require.True(t, errors.As(err, &e), "error %v is not an *Error", err)
			requireValidPos(t, src, e)
			return
		}
		requireRoundTrip(t, stmt)
		// Binding must not panic either, and its errors carry positions.
		stmt, err = Parse(src)
		require.NoError(t, err)
		q, err := Bind(stmt, testCatalog())
		if err != nil {
			var e *Error
			require.True(t, errors.As(err, &e), "bind error %v is not an *Error", err)
			requireValidPos(t, src, e)
			return
		}
		require.NotEmpty(t, Explain(q.Root))
		require.NoError(t, validatePlan(q.Root), "%s", src)
	})
}
