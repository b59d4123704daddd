// Package agg is Velo's vectorized hash aggregation: the engine behind GROUP
// BY, time windows and every stateful query.
//
// Inside a partition, an Aggregator receives batches of rows. Its KeyTable
// maps each distinct composite key (1–4 key columns) to a dense uint32 group
// id, a batch at a time: the key columns are hashed with the kernels, each
// row probes an open-addressing slot array for a candidate group whose
// stored hash tag matches, the candidates' actual key values are compared
// column by column with the probe kernels (never trusting the hash alone),
// and the misses are inserted. A single key column whose 64-bit key word is
// the whole key (fixed-width types; utf8 strings of up to 7 bytes, whose
// word also holds the length, and NULL) takes a fast path: the word is
// compared in the slot itself (kernels.GroupProbeWords), so a hit costs one
// slot read. Aggregate states are struct-of-arrays indexed by group id and
// updated with the grouped-update kernels; MIN, MAX and SUM/AVG of one
// float column share one pass (kernels.GroupedSumMinMaxFloat64). Partial
// aggregators merge (two-phase aggregation when rows are not partitioned by
// the group key), emit their results as an arrow.Record (keys, then
// aggregates), and can evict chosen groups (the window operator frees closed
// windows this way).
//
// SQL semantics: NULL is a key value of its own; aggregates ignore NULL
// inputs (COUNT(*) and FIRST/LAST aside); over no rows COUNT is 0 and every
// other aggregate is NULL; integer SUM overflow is an error naming the
// column.
package agg
