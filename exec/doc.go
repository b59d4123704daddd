// Package exec runs Velo's logical plans: Compile turns a bound
// sqlfront.Query into a chain of push-based physical operators (scan →
// filter → aggregate → filter (HAVING) → project → distinct → sort →
// limit → sink), and Pipeline.Run drives it from an array.RecordReader on
// the calling goroutine, lazily, one input batch per step.
//
// Operators pass columnar.Batch values (a record plus a selection vector).
// Filters never copy: column-vs-constant and column-vs-column comparisons
// of int64, timestamp, int32, float64 and float32 go through the compare
// kernels into a bitmap, are ANDed with the validity bitmaps and compressed
// into the next selection; other conditions are evaluated generically.
// Projection evaluates expressions over the selected rows into dense
// vectors (each column gathered once per batch; columns of an unselected
// batch pass through zero-copy). Aggregation and time windows keep the
// batch's selection (a WHERE's, or a partition's share of a routed record):
// plain column references go straight to agg.Aggregator or
// window.TimeWindow, expressions that cannot fail (price * quantity) are
// evaluated over the record, float arithmetic at the selected rows only,
// and the others over the selected rows, scattered back to their
// positions — so an overflow or a failing CAST is raised only for rows the
// query processes (inputBatch). Their large int64/float64 results reuse
// buffers from a pool, returned when the operator releases its input.
//
// # Semantics (DuckDB's, where engines differ)
//
//   - NULL propagates through arithmetic, comparisons, LIKE, || and the
//     scalar functions; AND/OR/NOT are three-valued; x IN (list) is NULL
//     when x is NULL or nothing matches and the list holds a NULL.
//   - "/" is float division (the binder casts integers): a zero divisor
//     gives ±Inf or NaN (IEEE 754, DuckDB 1.1+). Integer "%" by zero is
//     NULL; float "%" is fmod (NaN for 0). Integer + - * and unary minus,
//     ABS and ROUND overflow are errors wrapping ErrOverflow, never wraps.
//   - Floats order as the kernels do: NaN equals NaN and sorts above +Inf;
//     -0.0 equals 0.0 (also for DISTINCT and GROUP BY keys).
//   - ORDER BY: NULLs sort last for ASC and DESC unless NULLS FIRST is
//     given (DuckDB's default; SQLite and Postgres differ). The sort is
//     stable.
//   - LIKE: % any run, _ one code point, case-sensitive, no escape
//     character (SQL standard and DuckDB without ESCAPE; the dialect has no
//     ESCAPE clause yet, the matcher supports one).
//   - CASE evaluates each THEN/ELSE only on the rows that take it, COALESCE
//     each argument only on rows still NULL, so a branch not taken cannot
//     raise an error.
//   - CAST: float → integer rounds half away from zero and errors out of
//     range or on NaN; strings parse after trimming spaces; booleans accept
//     true/false/t/f/yes/no/y/n/1/0; timestamps 'YYYY-MM-DD[ HH:MM:SS[.f]]'
//     (UTC); a malformed value is an error wrapping ErrConversion that names
//     the value. CAST to VARCHAR prints floats shortest round-trip with
//     ".0" for integral values and nan/inf/-inf, timestamps as UTC text.
//   - SUBSTR counts code points from 1; a negative start counts from the
//     end; a negative length is an error. CONCAT skips NULLs, || does not.
//   - TIME_BUCKET/DATE_TRUNC buckets are [k·w, (k+1)·w) from the Unix
//     epoch (DuckDB's origin 2000-01-03 gives the same buckets for widths
//     dividing a day).
//
// # Partitioned execution
//
// CompilePartitioned splits the plan into a partitioned stage — scan →
// filter → project → aggregate, compiled once per partition and run by the
// partition package on one goroutine per partition — and a final stage
// (HAVING, the projection above an aggregate, DISTINCT, ORDER BY, LIMIT/
// OFFSET) that runs on the merged output on a single goroutine. The
// strategy (DESIGN.md, Partitioning strategies) is chosen as follows:
//
//   - GROUP BY on plain input columns of a hashable type: hash on those
//     columns. Each group lives in one partition, so the final stage just
//     concatenates the partitions' groups. Routing shares the source
//     record and passes a selection vector per partition (no copies).
//   - Global aggregates and GROUP BY keys that are expressions: two-phase.
//     Batches are dealt to the partitions in rotation (round_robin), each
//     partition keeps a partial aggregate, and the final stage merges them
//     with agg.Aggregator.Merge (partition order) before HAVING etc. A
//     float SUM/AVG may then differ from the one-partition result in the
//     last bits (another addition order); an integer SUM is exact and fails
//     only when its result does not fit in int64, in any order.
//   - FIRST/LAST without hashable plain keys depend on arrival order across
//     partitions, so they run fan_in (every row in partition 0) instead of
//     two-phase.
//   - Stateless queries: round_robin by batch. Deviation from DESIGN.md's
//     "sticky": a bounded table is one source partition, so sticky would
//     put every row in one partition. The engine deals batch k to partition
//     k mod N itself (N sticky sources), each partition emits exactly one
//     record per batch, and the final stage restores the input order — the
//     result (LIMIT without ORDER BY included) equals the one-partition
//     result row for row.
//
// A 'partitioning.strategy' setting overrides the choice when it can run
// the query: hash/smart need GROUP BY keys as above; sticky/round_robin run
// stateless queries in input order and aggregations two-phase (an error
// for FIRST/LAST, sessions and EMIT CHANGES); fan_in always works. Invalid choices are errors that
// say why (partition.ValidateStrategy). 'partitions' overrides
// Options.Partitions, 'channel.capacity' Options.ChannelCapacity.
//
// Without ORDER BY, the order of the groups of an aggregation (and of
// DISTINCT rows) depends on the partition count; with ORDER BY the result
// is the one-partition result, except that rows tied on every sort key
// may come in another order when they came from different partitions of
// an aggregation. The reader's first Next starts the run on a goroutine;
// the final stage's records reach the reader through a small queue, so a
// slow reader blocks the partitions and the scan (bounded memory) and
// releasing the reader early stops the run. An error or panic in any
// partition (a *partition.PanicError names it) or the cancellation of the
// context stops every goroutine and becomes the reader's Err. When several
// partitions fail, the first error wins, so which row an error message
// names may differ from the one-partition run.
//
// # EMIT CHANGES without a window
//
// A GROUP BY (or global aggregate) with EMIT CHANGES and no time window is
// a continuously updated GROUP BY: it runs through window.TimeWindow with
// Kind None instead of the hash aggregate, and emits, after each input
// batch, the current row of every group the batch touched (the GROUP BY's
// columns; within a batch groups come in the order they first appeared in
// the input) and nothing at the end, so the last change of each group is
// its EMIT FINAL row. Execute over a bounded input returns this changelog;
// Start hands each batch's changes to the sink during its Push. EMIT FINAL
// and no EMIT clause are unchanged (one result at the end). An empty input
// emits no rows, not even a global aggregate's empty group. Above the
// aggregate, the operators work on the changelog as they do for a time
// window's EMIT CHANGES: HAVING filters each change (a group that stops
// qualifying is not retracted), ORDER BY and DISTINCT buffer the whole
// changelog to the end of the input, LIMIT/OFFSET count change rows.
// Partitioned, plain hashable keys run hash (groups are disjoint, so each
// partition's changes are the groups' current rows; changes of different
// partitions interleave); a global aggregate or expression keys run fan_in
// — never two-phase, since a partial's change is not its group's current
// value — and sticky/round_robin settings are errors.
//
// Time windows (GROUP BY … WINDOW TUMBLING/SLIDING/SESSION, TUMBLE/HOP/
// SESSION) run through window.TimeWindow and OVER (ROWS) through
// window.Rows; see exec/window.go for what they support and how they are
// partitioned. A tumbling or sliding window with EMIT FINAL and no
// FIRST/LAST also runs two-phase: without plain GROUP BY keys (none, or
// expressions) by default (it would otherwise run on one partition), with
// plain keys when a batch run finds few groups per window in its first
// record (PartitionPlan.Adaptive: distinct (event time ÷ slide, keys) at
// most one per 8 rows; S3a at 2 partitions 0.75 → 0.85 of the control),
// and under a sticky/round_robin setting. The query's one source deals
// whole records — to the partition with the shortest input queue, in
// rotation while the queues are even — and broadcasts its watermark; each
// partition's window operator is partial (window.TimeWindow.Partial) and
// hands the windows it closes to a shared window.Merger, and the partition
// that completes a window emits it merged, so windows come out while the
// input runs, in streams too. Which partition adds which record depends on
// timing, so a float SUM/AVG of such a window can differ in its last bits
// from run to run (and from one partition); 'partitioning.strategy' =
// 'hash' keeps every key in one partition and the results reproducible.
//
// A keyed tumbling window (EMIT FINAL or EMIT CHANGES), or one that would
// run fan_in (no plain keys with EMIT CHANGES or FIRST/LAST), in a batch
// run is routed by event-time window instead when its first record lies within
// two windows and a window spans at most 32 records like it
// (PartitionPlan.ByWindow; partition.Window: each row goes to partition
// ⌊t ÷ size⌋ mod N). A window's groups are (window, keys), so each lives
// in one partition as under hash routing, but records inside one window
// (market data: all but the one in ~7 that crosses a boundary) go whole to
// one partition: no key hashing and no selection vectors, each partition
// does per row what one partition does, nothing is merged, and the results
// equal one partition's, EMIT CHANGES included (S3a at 2 partitions 0.84
// → 0.92 of the control, S3b 0.81 → 0.91; 1-minute bars of the whole
// market with EMIT CHANGES 105 → 159 M rows/s at 2 partitions,
// BenchmarkKeylessWindow). The partitions' input queues
// grow to hold two windows' records and watermarks, so the router can
// queue one partition's window and move on to the next. It is chosen
// before the two-phase check; streams (Start) keep hash routing. This is
// a routing DESIGN.md does not list: it partitions by part of the group
// key (the window) rather than all of it.
//
// Not supported yet (errors, never panics): GROUP BY with more than four
// keys; OVER with several ORDER BY keys, an ORDER BY that is not int64 or
// timestamp, or a frame not ending at CURRENT ROW.
package exec
