package exec_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/velo-engine/velo/columnar"
)

// The differential test runs random queries on random tables in Velo and
// in SQLite and compares the results. Queries stay inside the semantics the
// two engines share (documented in exec/doc.go):
//   - "/" only divides by a non-zero float constant (SQLite divides
//     integers as integers and returns NULL for x/0; Velo follows DuckDB);
//   - "%" only on integers (SQLite casts float operands to integers);
//     x % 0 is NULL in both;
//   - integers stay small, so no overflow (Velo errors, SQLite goes float);
//   - strings are lower-case ASCII (SQLite's LIKE ignores ASCII case);
//   - ORDER BY names NULLS FIRST/LAST explicitly (SQLite's default is NULLS
//     FIRST ascending, DuckDB's NULLS LAST) and orders by every output
//     column, so LIMIT/OFFSET pick the same rows; without ORDER BY rows are
//     compared as multisets;
//   - values are normalised: bool → 0/1, integral floats print as integers,
//     floats compare at 10 significant digits (summation order differs).

type diffTable struct {
	a, b  []int64
	aok   []bool
	bok   []bool
	x     []float64
	xok   []bool
	s     []string
	sok   []bool
	flag  []bool
	flok  []bool
	nrows int
}

func genDiffTable(r *rand.Rand) diffTable {
	n := r.IntN(40)
	t := diffTable{nrows: n}
	words := []string{"", "a", "ab", "abc", "b", "ba", "m", "mz", "z", "zz", "q_r", "x%y"}
	for i := 0; i < n; i++ {
		t.a = append(t.a, int64(r.IntN(41)-20))
		t.aok = append(t.aok, r.IntN(6) != 0)
		t.b = append(t.b, int64(r.IntN(11)-5))
		t.bok = append(t.bok, r.IntN(5) != 0)
		t.x = append(t.x, float64(r.IntN(801)-400)/8)
		t.xok = append(t.xok, r.IntN(6) != 0)
		t.s = append(t.s, words[r.IntN(len(words))])
		t.sok = append(t.sok, r.IntN(6) != 0)
		t.flag = append(t.flag, r.IntN(2) == 0)
		t.flok = append(t.flok, r.IntN(5) != 0)
	}
	return t
}

var diffSchema = arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

func (t diffTable) records(mem memory.Allocator) []arrow.Record {
	var out []arrow.Record
	for lo := 0; lo < t.nrows || lo == 0; lo += 16 {
		hi := min(lo+16, t.nrows)
		out = append(out, columnar.NewRecord(diffSchema, []arrow.Array{
			columnar.BuildInt64(mem, t.a[lo:hi], t.aok[lo:hi]),
			columnar.BuildInt64(mem, t.b[lo:hi], t.bok[lo:hi]),
			columnar.BuildFloat64(mem, t.x[lo:hi], t.xok[lo:hi]),
			columnar.BuildString(mem, t.s[lo:hi], t.sok[lo:hi]),
			columnar.BuildBool(mem, t.flag[lo:hi], t.flok[lo:hi]),
		}))
		if t.nrows == 0 {
			break
		}
	}
	return out
}

func (t diffTable) sqlStatements() []string {
	stmts := []string{"CREATE TABLE r (a INTEGER, b INTEGER, x REAL, s TEXT, flag INTEGER)"}
	lit := func(ok bool, v string) string {
		if !ok {
			return "NULL"
		}
		return v
	}
	for i := 0; i < t.nrows; i++ {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO r VALUES (%s, %s, %s, %s, %s)",
			lit(t.aok[i], strconv.FormatInt(t.a[i], 10)), lit(t.bok[i], strconv.FormatInt(t.b[i], 10)),
			lit(t.xok[i], strconv.FormatFloat(t.x[i], 'f', -1, 64)), lit(t.sok[i], "'"+t.s[i]+"'"),
			lit(t.flok[i], strconv.Itoa(b2int(t.flag[i])))))
	}
	return stmts
}

func b2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

// queryGen builds random SQL in the shared dialect.
type queryGen struct{ r *rand.Rand }

func (g queryGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g queryGen) intExpr(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.pick("a", "b", "a", strconv.Itoa(g.r.IntN(11)-5))
	}
	switch g.r.IntN(7) {
	case 0:
		return "(" + g.intExpr(depth-1) + " + " + g.intExpr(depth-1) + ")"
	case 1:
		return "(" + g.intExpr(depth-1) + " - " + g.intExpr(depth-1) + ")"
	case 2:
		return "(" + g.intExpr(depth-1) + " * " + g.intExpr(depth-1) + ")"
	case 3:
		return "(" + g.intExpr(depth-1) + " % " + g.intExpr(depth-1) + ")"
	case 4:
		return "ABS(" + g.intExpr(depth-1) + ")"
	case 5:
		return "COALESCE(" + g.intExpr(depth-1) + ", " + g.intExpr(depth-1) + ")"
	}
	return "CASE WHEN " + g.pred(depth-1) + " THEN " + g.intExpr(depth-1) + " ELSE " + g.intExpr(depth-1) + " END"
}

func (g queryGen) numExpr(depth int) string {
	if g.r.IntN(2) == 0 {
		return g.intExpr(depth)
	}
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.pick("x", "x", "1.5", "-0.25")
	}
	switch g.r.IntN(5) {
	case 0:
		return "(" + g.numExpr(depth-1) + " + " + g.numExpr(depth-1) + ")"
	case 1:
		return "(" + g.numExpr(depth-1) + " - " + g.numExpr(depth-1) + ")"
	case 2:
		return "(" + g.numExpr(depth-1) + " * " + g.numExpr(depth-1) + ")"
	case 3:
		return "(" + g.numExpr(depth-1) + " / " + g.pick("4.0", "-2.5", "0.5") + ")"
	}
	return "ABS(" + g.numExpr(depth-1) + ")"
}

func (g queryGen) strConst() string {
	return "'" + g.pick("", "a", "ab", "b", "m", "z", "zz") + "'"
}

func (g queryGen) pred(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		switch g.r.IntN(9) {
		case 0:
			return g.numExpr(1) + " " + g.pick("=", "<>", "<", "<=", ">", ">=") + " " + g.numExpr(1)
		case 1:
			return "s " + g.pick("=", "<>", "<", "<=", ">", ">=") + " " + g.strConst()
		case 2:
			return g.pick("a", "b", "x", "s", "flag") + g.pick(" IS NULL", " IS NOT NULL")
		case 3:
			return g.pick("a", "b") + g.pick(" IN ", " NOT IN ") + "(" + strconv.Itoa(g.r.IntN(11)-5) + ", " + strconv.Itoa(g.r.IntN(11)-5) + g.pick("", ", NULL") + ")"
		case 4:
			lo := g.r.IntN(21) - 10
			return g.pick("a", "x") + g.pick(" BETWEEN ", " NOT BETWEEN ") + strconv.Itoa(lo) + " AND " + strconv.Itoa(lo+g.r.IntN(15))
		case 5:
			return "s" + g.pick(" LIKE ", " NOT LIKE ") + "'" + g.pick("a%", "%b", "_", "%", "a_", "%z%", "q\\_%") + "'"
		case 6:
			return "flag"
		case 7:
			return "s IN ('a', " + g.strConst() + ")"
		}
		return g.intExpr(1) + " " + g.pick("=", "<", ">") + " " + g.intExpr(1)
	}
	switch g.r.IntN(3) {
	case 0:
		return "(" + g.pred(depth-1) + " AND " + g.pred(depth-1) + ")"
	case 1:
		return "(" + g.pred(depth-1) + " OR " + g.pred(depth-1) + ")"
	}
	return "NOT (" + g.pred(depth-1) + ")"
}

func (g queryGen) orderBy(n int) string {
	idx := g.r.Perm(n)
	parts := make([]string, n)
	for i, c := range idx {
		parts[i] = strconv.Itoa(c+1) + g.pick(" ASC", " DESC") + g.pick(" NULLS FIRST", " NULLS LAST")
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

// query returns a random query and whether its row order is defined.
func (g queryGen) query() (string, bool) {
	var b strings.Builder
	ncols := 0
	ordered := false
	if g.r.IntN(2) == 0 {
		// Projection.
		b.WriteString("SELECT ")
		if g.r.IntN(6) == 0 {
			b.WriteString("DISTINCT ")
		}
		ncols = 1 + g.r.IntN(3)
		for i := 0; i < ncols; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			switch g.r.IntN(5) {
			case 0:
				b.WriteString(g.pick("a", "b", "x", "s", "flag"))
			case 1:
				b.WriteString(g.pred(1))
			case 2:
				b.WriteString(g.pick("s || 'k'", "UPPER(s)", "LENGTH(s)", "COALESCE(s, 'none')"))
			default:
				b.WriteString(g.numExpr(2))
			}
			b.WriteString(" AS c" + strconv.Itoa(i))
		}
		b.WriteString(" FROM r")
		if g.r.IntN(3) != 0 {
			b.WriteString(" WHERE " + g.pred(2))
		}
	} else {
		keys := []string{g.pick("a", "b", "s", "flag", "a % 3", "s || 'k'")}
		if g.r.IntN(2) == 0 {
			keys = append(keys, g.pick("b", "flag", "s"))
		}
		if keys[0] == keys[len(keys)-1] && len(keys) == 2 {
			keys = keys[:1]
		}
		b.WriteString("SELECT ")
		for i, k := range keys {
			b.WriteString(k + " AS k" + strconv.Itoa(i) + ", ")
		}
		naggs := 1 + g.r.IntN(3)
		for i := 0; i < naggs; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(g.pick("COUNT(*)", "COUNT("+g.pick("a", "x", "s")+")", "SUM("+g.pick("a", "x", g.intExpr(1))+")",
				"AVG("+g.pick("a", "x")+")", "MIN("+g.pick("a", "x", "s")+")", "MAX("+g.pick("b", "x", "s")+")") + " AS g" + strconv.Itoa(i))
		}
		ncols = len(keys) + naggs
		b.WriteString(" FROM r")
		if g.r.IntN(2) == 0 {
			b.WriteString(" WHERE " + g.pred(2))
		}
		b.WriteString(" GROUP BY " + strings.Join(keys, ", "))
		if g.r.IntN(4) == 0 {
			b.WriteString(" HAVING COUNT(*) > " + strconv.Itoa(g.r.IntN(3)))
		}
	}
	if g.r.IntN(2) == 0 {
		b.WriteString(g.orderBy(ncols))
		ordered = true
		if g.r.IntN(2) == 0 {
			b.WriteString(" LIMIT " + strconv.Itoa(g.r.IntN(10)))
			if g.r.IntN(2) == 0 {
				b.WriteString(" OFFSET " + strconv.Itoa(g.r.IntN(5)))
			}
		}
	}
	return b.String(), ordered
}

func normFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 10, 64)
}

func veloRows(recs []arrow.Record) []string {
	var rows []string
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			cells := make([]string, r.NumCols())
			for c := range cells {
				col := r.Column(c)
				switch {
				case col.IsNull(i):
					cells[c] = "NULL"
				default:
					switch a := col.(type) {
					case *array.Int64:
						cells[c] = strconv.FormatInt(a.Value(i), 10)
					case *array.Float64:
						cells[c] = normFloat(a.Value(i))
					case *array.Boolean:
						cells[c] = strconv.Itoa(b2int(a.Value(i)))
					case *array.String:
						cells[c] = strconv.Quote(a.Value(i))
					default:
						cells[c] = col.ValueStr(i)
					}
				}
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
	}
	return rows
}

func sqliteRows(db *sql.DB, query string) ([]string, error) {
	rs, err := db.Query(query)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var rows []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				cells[i] = "NULL"
			case int64:
				cells[i] = strconv.FormatInt(v, 10)
			case float64:
				cells[i] = normFloat(v)
			case string:
				cells[i] = strconv.Quote(v)
			case []byte:
				cells[i] = strconv.Quote(string(v))
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return rows, rs.Err()
}

func TestDifferentialSQLite(t *testing.T) {
	tablesN, queriesN := 60, 60
	if testing.Short() {
		tablesN, queriesN = 10, 30
	}
	r := rand.New(rand.NewPCG(20261127, 5))
	gen := queryGen{r: r}
	total, nonEmpty := 0, 0
	for ti := 0; ti < tablesN; ti++ {
		tbl := genDiffTable(r)
		db, err := sql.Open("sqlite", ":memory:")
		require.NoError(t, err)
		db.SetMaxOpenConns(1)
		stmts := tbl.sqlStatements()
		for _, s := range stmts {
			_, err := db.Exec(s)
			require.NoError(t, err, s)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		tables := map[string][]arrow.Record{"r": tbl.records(mem)}
		for qi := 0; qi < queriesN; qi++ {
			q, ordered := gen.query()
			want, err := sqliteRows(db, q)
			require.NoError(t, err, "sqlite: %s", q)
			recs, _, err := runSQL(context.Background(), mem, tables, q, 1+r.IntN(20))
			if err != nil {
				t.Fatalf("velo failed: %v\nreproduce:\n%s;\n%s;", err, strings.Join(stmts, ";\n"), q)
			}
			got := veloRows(recs)
			for _, rec := range recs {
				rec.Release()
			}
			if !ordered {
				sort.Strings(got)
				sort.Strings(want)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("mismatch\nreproduce:\n%s;\n%s;\nvelo:\n%s\nsqlite:\n%s", strings.Join(stmts, ";\n"), q, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			total++
			if len(want) > 0 {
				nonEmpty++
			}
		}
		releaseTables(tables)
		mem.AssertSize(t, 0)
		require.NoError(t, db.Close())
	}
	t.Logf("%d random queries (%d with rows), zero mismatches", total, nonEmpty)
	require.Greater(t, nonEmpty, total/2, "the generator should mostly produce non-empty results")
}
