// Package bench owns Velo's benchmark workload: the deterministic
// market_data generator of BENCH.md, a summary of any record stream for the
// demo, and (later) the scenarios and the harness behind `velo bench`.
//
// In the data flow the generator is a source: [NewMarketData] returns an
// [github.com/apache/arrow/go/v17/arrow/array.RecordReader] that produces
// Arrow record batches of trades, exactly like a file reader from the
// columnar package would, so queries, benchmarks and `velo gen` all consume
// the same rows. The rows depend only on the seed and the row count: the same
// seed gives bit-identical data on every machine, ISA and batch size.
package bench
