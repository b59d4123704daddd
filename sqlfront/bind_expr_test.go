package sqlfront

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBindExpr pins the bound form, Arrow type and nullability of scalar
// expressions over the events table (ts timestamp[ms]?, id int32, score
// float32?, name utf8?, ok bool?, day date32?; ? = nullable). Column indices
// are positions in the scan, which reads only the mentioned columns in table
// order. Expected values follow the DuckDB rules in doc.go, worked by hand.
func TestBindExpr(t *testing.T) {
	cases := []struct {
		expr, bound, typ string
		nullable         bool
	}{
		{"id + 1", "CAST(id#0 AS int64) + 1", "int64", false},
		{"id + score", "CAST(id#0 AS float64) + CAST(score#1 AS float64)", "float64", true},
		{"id / 2", "CAST(id#0 AS float64) / 2.0", "float64", false},
		{"score / 0", "CAST(score#0 AS float64) / 0.0", "float64", true},
		{"id % 0.5", "CAST(id#0 AS float64) % 0.5", "float64", false},
		{"7 % id", "7 % CAST(id#0 AS int64)", "int64", true},
		{"id // 2", "CAST(id#0 AS int64) // 2", "int64", true},
		{"-id", "-CAST(id#0 AS int64)", "int64", false},
		{"score * 2", "CAST(score#0 AS float64) * 2.0", "float64", true},
		{"name || id", "name#1 || CAST(id#0 AS utf8)", "utf8", true},
		{"'a' || NULL", "'a' || NULL", "utf8", true},
		{"id = 1.5", "CAST(id#0 AS float64) = 1.5", "bool", false},
		{"ts > '2024-01-02 03:04:05'", "ts#0 > TIMESTAMP '2024-01-02 03:04:05'", "bool", true},
		{"ts BETWEEN DATE '2024-01-01' AND TIMESTAMP '2024-02-01'", "ts#0 BETWEEN TIMESTAMP '2024-01-01 00:00:00' AND TIMESTAMP '2024-02-01 00:00:00'", "bool", true},
		{"day < ts", "CAST(day#1 AS timestamp[ms]) < ts#0", "bool", true},
		{"ts + INTERVAL '1' MINUTE", "ts#0 + 60000ms", "timestamp[ms]", true},
		{"ts - 1s", "ts#0 - 1000ms", "timestamp[ms]", true},
		{"id IN (1, 2.5, NULL)", "CAST(id#0 AS float64) IN (1.0, 2.5, NULL)", "bool", true},
		{"name NOT LIKE 'a%'", "name#0 NOT LIKE 'a%'", "bool", true},
		{"score IS NULL", "score#0 IS NULL", "bool", false},
		{"NOT ok AND id > 0 OR name IS NOT NULL", "((NOT ok#2) AND (id#0 > 0)) OR (name#1 IS NOT NULL)", "bool", true},
		{"CASE id WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", "CASE WHEN id#0 = 1 THEN 'one' WHEN id#0 = 2 THEN 'two' END", "utf8", true},
		{"CASE WHEN ok THEN score ELSE 0 END", "CASE WHEN ok#1 THEN CAST(score#0 AS float64) ELSE 0.0 END", "float64", true},
		{"CAST(id AS VARCHAR)", "CAST(id#0 AS utf8)", "utf8", false},
		{"id::double", "CAST(id#0 AS float64)", "float64", false},
		{"CAST('2024-01-02' AS DATE)", "DATE '2024-01-02'", "date32", false},
		{"COALESCE(score, id, 0)", "coalesce(CAST(score#1 AS float64), CAST(id#0 AS float64), 0.0)", "float64", false},
		{"COALESCE(name, NULL)", "coalesce(name#0, NULL)", "utf8", true},
		{"NULLIF(id, 0)", "nullif(id#0, 0)", "int32", true},
		{"ABS(id)", "abs(CAST(id#0 AS int64))", "int64", false},
		{"ROUND(score, 2)", "round(CAST(score#0 AS float64), 2)", "float64", true},
		{"FLOOR(score)", "floor(CAST(score#0 AS float64))", "float64", true},
		{"CEILING(id)", "ceil(CAST(id#0 AS int64))", "int64", false},
		{"UPPER(name)", "upper(name#0)", "utf8", true},
		{"LENGTH(name)", "length(name#0)", "int64", true},
		{"SUBSTR(name, id, 2)", "substr(name#1, CAST(id#0 AS int64), 2)", "utf8", true},
		{"CONCAT(name, '-', id)", "concat(name#1, '-', CAST(id#0 AS utf8))", "utf8", false},
		{"TIME_BUCKET(INTERVAL '5' MINUTE, ts)", "time_bucket(ts#0, 300000)", "timestamp[ms]", true},
		{"DATE_TRUNC('hour', ts)", "time_bucket(ts#0, 3600000)", "timestamp[ms]", true},
		{"-9223372036854775808", "-9223372036854775808", "int64", false},
		{"- 2.5", "-2.5", "float64", false},
		{"NULL", "NULL", "null", true},
	}
	cat := testCatalog()
	for _, c := range cases {
		q, err := Plan("SELECT "+c.expr+" FROM events", cat)
		require.NoError(t, err, c.expr)
		require.NoError(t, validatePlan(q.Root), c.expr)
		e := q.Root.(*Project).Exprs[0]
		require.Equal(t, c.bound, e.String(), c.expr)
		require.Equal(t, c.typ, typeString(e.DataType()), c.expr)
		require.Equal(t, c.nullable, e.Nullable(), c.expr)
		f := q.Root.Schema().Field(0)
		require.Equal(t, c.nullable, f.Nullable, c.expr)
	}
}
