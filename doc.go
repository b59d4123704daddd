// Package velo is Velo's public API: an Engine holds registered tables and
// runs SQL over them, as batch queries over bounded inputs (Execute) and as
// continuous queries over pushed batches (Start).
//
//	eng := velo.New(velo.WithPartitions(4))
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
// array.RecordReader. At one partition each Next pulls source batches
// through the pipeline until output is ready, checks the context between
// batches, and stops reading the source once a LIMIT is satisfied. With more
// partitions (WithPartitions or the query's 'partitions' setting) the plan is
// split into a partitioned stage run by package partition (hash routing on
// GROUP BY / window / PARTITION BY keys, two-phase aggregation where keys
// are not routable) and a final stage (HAVING, DISTINCT, ORDER BY, LIMIT)
// on the merged output; see exec/doc.go for the strategy choice.
//
// Start runs the same compiled pipeline over batches the caller pushes:
//
//	q, err := eng.Start(ctx, "SELECT symbol, COUNT(*) FROM market_data GROUP BY symbol "+
//		"WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT FINAL", sink)
//	q.Push(rec)          // results reach sink as windows close (event-time watermark)
//	q.Watermark(ts)      // an explicit watermark closes windows early
//	err = q.Close()      // end of input: watermark +inf, flush, wait
//
// On a bounded input the final watermark is +inf, so Execute and Start over
// the same rows give the same result rows.
package velo
