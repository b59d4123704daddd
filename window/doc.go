// Package window is Velo's event-time machinery: time-windowed aggregation
// (tumbling, sliding, session) with watermarks, late-data policies and the
// EMIT FINAL / EMIT CHANGES modes, and ROWS analytic windows (moving
// aggregates, LAG/LEAD, ranking) over rows in event-time order.
//
// # Role in the data flow
//
// exec plans `GROUP BY … WINDOW …` / `TUMBLE(…)` onto a TimeWindow and
// `… OVER (PARTITION BY … ORDER BY … ROWS …)` onto a Rows operator, one per
// partition (partition/ routes rows by hash of the group / partition key).
// Both are plain libraries driven batch by batch by one goroutine: Push a
// columnar.Batch, get back the arrow.Records to send downstream; Advance the
// watermark explicitly if the source has one; Finish at the end of a
// bounded input (watermark +∞). Neither retains a pushed batch beyond the
// call, except Rows in streaming mode, which holds rows until the watermark
// releases them. Records returned are owned by the caller.
//
// # Time windows
//
// The time column is int64 milliseconds or an Arrow timestamp (durations
// in Spec are milliseconds, converted to the column's unit; window_start and
// window_end have the time column's type). A row at time t belongs to:
//   - tumbling: [k·size, (k+1)·size), k = floor(t/size);
//   - sliding: every [s, s+size) with s a multiple of slide and s ≤ t < s+size
//     (⌈size/slide⌉ or ⌊size/slide⌋ windows);
//   - session: per group key, rows whose intervals [t, t+gap) overlap form one
//     session [min t, max t + gap). A row exactly at a session's end starts a
//     new one (Flink merges touching windows; Velo keeps half-open bounds
//     everywhere). A row that overlaps several sessions merges them (their
//     agg states combine with agg.Merge).
//
// A row exactly at window_end belongs to the next window. Rows with a NULL
// time are counted (Stats.NullTime) and skipped.
//
// State: each open window (or session) owns an agg.Aggregator over the
// input; a batch's rows are routed to windows by per-window selection
// vectors (a sliding row is referenced by each of its windows, never
// copied) and each touched window gets one agg Update. A closed window's
// aggregator is Reset and reused for the next window. One aggregator per
// window was chosen over an extra window-start key column: the hot path is
// agg's own Update with a selection, closing a window is one Emit with no
// Evict/Compact renumbering, and for S3a (1,000 symbols × 1-minute windows)
// a batch touches one or two windows. Measured on 2 M market_data rows
// (BenchmarkS3a vs BenchmarkS3aKeyedAlternative, per CPU-second on the
// shared host): 27–29 M rows/s for the whole operator against 24–25 M for
// the keyed design's updates alone. Its cost is a fixed overhead per
// (window, batch): many tiny windows per batch (e.g. 1 ms tumbling windows
// over dense data) are slower than a keyed table would be. Windows that
// hold a small share of a batch are fed slices of one compacted copy of
// their rows (agg.Update costs O(record rows) whatever the selection).
// Session windows own one aggregator per session: about 20 µs of fixed
// cost per session (creation, emit, ordering), fine for sessions of many
// rows, slow for floods of tiny sessions (BenchmarkWindowKinds/session:
// 485 k sessions of ~4 rows each in 2 M rows take seconds).
//
// # Watermarks and lateness
//
// watermark = max event time seen − max out-of-orderness (Spec, default
// 5 s), never decreasing; AdvanceWatermark pushes an explicit one; Finish
// sets it to +∞ (math.MaxInt64), which closes every window. The watermark
// advances row by row, so whether a row is late does not depend on how the
// input was cut into batches; windows close at the end of each Push (and on
// AdvanceWatermark / Finish). A window [s, e) closes when watermark ≥ e +
// allowed lateness (default 0).
//
// With Spec.ExternalWatermark the caller is the only source of the
// watermark: Push judges lateness against the watermark last given to
// AdvanceWatermark and never moves it. The SQL path (exec) uses this: it
// generates the watermark where rows enter the query, after each input
// batch (before any filter), and broadcasts it to every partition, so a
// batch's rows are judged against the watermark from before that batch and
// a partitioned run is late on exactly the rows the one-partition run is.
//
// A row is late when one of its windows has already closed (for a
// session: when it joins no open session and its own [t, t+gap) has
// closed). Policies (Spec.Late, SQL 'late.data.strategy'):
//   - drop (default): not processed, counted in LateDropped;
//   - warn: processed into those of its windows still open (sliding), else
//     dropped; counted; a slog warning at most once per second;
//   - process: processed into all its windows. A window already emitted is
//     re-opened with fresh state holding only the late rows and emitted
//     again when it closes (at the end of the same Push, since the
//     watermark is past it; with an external watermark at the next
//     AdvanceWatermark, so the late rows of every Push in between fire
//     together): a late firing carrying the late rows'
//     aggregate, like Flink's late firings but without the earlier rows
//     (their state was freed at close; keep it by raising the allowed
//     lateness instead, which is exactly Flink's allowed lateness).
//
// Every row is counted: Rows = NullTime + on-time rows + LateRows, and
// LateRows = LateDropped + LateProcessed (Stats).
//
// # Emit modes
//
// EMIT FINAL emits each window once when it closes: the windows closed by
// one Push / AdvanceWatermark / Finish come as one record ordered by
// window_end, then the group keys (NULL first, numbers ascending, strings
// bytewise, false < true). EMIT CHANGES emits, after each Push, the current
// row of every (window, group) the batch touched — one record per touched
// window, windows by start, groups in first-arrival order — and nothing at
// close: the last change of each (window, group) equals its FINAL row.
// Changes carry no retractions: when sessions merge, the rows emitted for
// the absorbed session are superseded by the surviving session's rows.
// Kind None is a plain GROUP BY: EMIT FINAL emits once at Finish, EMIT
// CHANGES after every batch (a continuously updated GROUP BY).
//
// # Two-phase (partial) windows
//
// Tumbling and sliding windows with EMIT FINAL can also run two-phase
// (TimeWindow.Partial): whole batches are dealt to several operators that
// follow one external watermark; each hands the windows it closes at a
// watermark step to a shared Merger as partial aggregates, and the operator
// whose hand-over completes a step (every operator has reached it) merges
// each window's partials of that step and emits it. A late firing is the
// windows re-opened since the previous step, closed at the next one by
// every operator that got late rows, so it merges like a regular close.
// Together they emit the rows one operator would (floating-point sums up
// to summation order), window by window while the input runs. The SQL path
// uses this to spread windows without plain group keys over partitions
// (and under round_robin/sticky).
//
// # ROWS windows
//
// Rows computes `f OVER (PARTITION BY … ORDER BY t ROWS BETWEEN n PRECEDING
// AND CURRENT ROW)` (or UNBOUNDED PRECEDING) for SUM, AVG, COUNT, COUNT(*),
// MIN, MAX, LAG, LEAD, ROW_NUMBER, RANK, DENSE_RANK, FIRST_VALUE and
// LAST_VALUE; Velostream's `ROWS WINDOW BUFFER n ROWS` is n-1 PRECEDING.
// Rows of a partition are taken in ORDER BY order, ties in arrival order
// (a stable sort); RANK and DENSE_RANK treat equal ORDER BY keys as peers;
// NULL order keys sort first. The output is the input columns plus one
// column per function. Bounded input is processed at Finish and returned
// per pushed batch in pushed order; unbounded input (RowsSpec.Streaming)
// is buffered until the watermark passes it and emitted in event-time
// order. See Rows for the numeric guarantees and the cost model.
package window
