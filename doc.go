// Package velo is Velo's public API: an Engine holds registered tables and
// runs SQL over them as batch queries.
//
//	eng := velo.New()
//	defer eng.Close()
//	if err := eng.RegisterTable("market_data", "md.parquet"); err != nil { ... }
//	res, err := eng.Execute(ctx, "SELECT symbol, COUNT(*) FROM market_data GROUP BY symbol")
//	if err != nil { ... }
//	defer res.Release()
//	for res.Next() { rec := res.Record(); ... }
//	if err := res.Err(); err != nil { ... }
//
// Execute binds the SQL with sqlfront (errors carry line:column), compiles
// the plan into exec's push-based operators and returns a lazy
// array.RecordReader: each Next pulls source batches through the pipeline
// until output is ready, checks the context between batches, and stops
// reading the source once a LIMIT is satisfied. Queries run on one
// partition for now; WithPartitions is recorded for the partitioned
// executor.
package velo
