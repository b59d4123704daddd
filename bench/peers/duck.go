package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/velo-engine/velo/bench"
)

// duckSQL is each scenario's query in DuckDB's dialect. S0, S1, S2 and S2h
// are BENCH.md's SQL verbatim; the tumbling window of S3a is a GROUP BY on
// the minute number. S3b (EMIT CHANGES) has no DuckDB equivalent.
var duckSQL = map[string]string{
	"S0":  bench.SQLS0,
	"S1":  bench.SQLS1,
	"S2":  bench.SQLS2,
	"S2h": bench.SQLS2h,
	"S3a": "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(quantity) AS total_quantity, SUM(price * quantity) AS total_value FROM market_data GROUP BY symbol, trade_time // 60000",
}

// duck is one DuckDB database with market_data loaded from a Parquet file,
// on a single connection so SET threads applies to every query.
type duck struct {
	db   *sql.DB
	conn *sql.Conn
}

// openDuck creates an in-memory DuckDB database and loads market_data from
// parquet with read_parquet.
func openDuck(ctx context.Context, parquet string) (*duck, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("duckdb: open: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("duckdb: connect: %w", err)
	}
	d := &duck{db: db, conn: conn}
	q := fmt.Sprintf("CREATE TABLE market_data AS SELECT * FROM read_parquet('%s')", strings.ReplaceAll(parquet, "'", "''"))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		d.Close()
		return nil, fmt.Errorf("duckdb: loading %s: %w", parquet, err)
	}
	return d, nil
}

// Close closes the connection and the database.
func (d *duck) Close() {
	_ = d.conn.Close()
	_ = d.db.Close()
}

// setThreads sets DuckDB's worker threads.
func (d *duck) setThreads(ctx context.Context, n int) error {
	if _, err := d.conn.ExecContext(ctx, fmt.Sprintf("SET threads = %d", n)); err != nil {
		return fmt.Errorf("duckdb: SET threads = %d: %w", n, err)
	}
	return nil
}

// checksumSQL wraps a scenario query in an outer aggregate that consumes
// the whole result inside DuckDB and returns its checksum: the row count,
// then per checked column SUM(col) as DOUBLE, or for symbol its total
// length, minimum and maximum.
func checksumSQL(id string) (string, error) {
	q, ok := duckSQL[id]
	if !ok {
		return "", fmt.Errorf("duckdb: scenario %s has no DuckDB form", id)
	}
	parts := []string{"COUNT(*)"}
	for _, c := range checkCols[id] {
		if c == "symbol" {
			parts = append(parts, "CAST(SUM(LENGTH(symbol)) AS BIGINT)", "MIN(symbol)", "MAX(symbol)")
		} else {
			parts = append(parts, fmt.Sprintf("CAST(SUM(%s) AS DOUBLE)", c))
		}
	}
	return fmt.Sprintf("SELECT %s FROM (%s) AS q", strings.Join(parts, ", "), q), nil
}

// run executes scenario id and returns its result checksum.
func (d *duck) run(ctx context.Context, id string) (Checksum, error) {
	q, err := checksumSQL(id)
	if err != nil {
		return Checksum{}, err
	}
	cols := checkCols[id]
	dest := []any{new(int64)}
	for _, c := range cols {
		if c == "symbol" {
			dest = append(dest, new(sql.NullInt64), new(sql.NullString), new(sql.NullString))
		} else {
			dest = append(dest, new(sql.NullFloat64))
		}
	}
	if err := d.conn.QueryRowContext(ctx, q).Scan(dest...); err != nil {
		return Checksum{}, fmt.Errorf("duckdb: %s: %w", id, err)
	}
	cs := Checksum{Rows: *dest[0].(*int64), Cols: map[string]ColSum{}}
	i := 1
	for _, c := range cols {
		if c == "symbol" {
			l, lo, hi := dest[i].(*sql.NullInt64), dest[i+1].(*sql.NullString), dest[i+2].(*sql.NullString)
			if l.Valid {
				cs.Cols[c] = ColSum{Len: l.Int64, Min: lo.String, Max: hi.String}
			}
			i += 3
			continue
		}
		if f := dest[i].(*sql.NullFloat64); f.Valid {
			cs.Cols[c] = ColSum{Numeric: true, Sum: f.Float64}
		}
		i++
	}
	return cs, nil
}
