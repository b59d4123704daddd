// Package bench owns Velo's benchmark workload: the deterministic
// market_data generator of BENCH.md, a summary of any record stream for the
// demo, and (later) the scenarios and the harness behind `velo bench`.
//
// In the data flow the generator is a source: [NewMarketData] returns an
// [github.com/apache/arrow/go/v17/arrow/array.RecordReader] that produces
// Arrow record batches of trades, exactly like a file reader from the
// columnar package would, so queries, benchmarks and `velo gen` all consume
// the same rows.
//
// Determinism: the rows depend only on the seed and the row index — not on
// the batch size, the number of rows requested (a shorter run is a prefix of
// a longer one), the number of GenerateAll workers, the ISA or -tags purego.
// The generator uses its own wyrand stream (three 64-bit draws per row, so
// any row's random state is computable directly), integer arithmetic for
// every value except the final price conversion (one correctly rounded
// division of integer cents by 100), and builds its Zipf alias table with
// IEEE basic operations only (no math.Pow, no fusable x*y+z). A golden hash
// of the first 100,000 rows of seed 42 pins the data on amd64 and arm64.
package bench
