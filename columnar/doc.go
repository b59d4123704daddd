// Package columnar is the data model every Velo operator passes around, and
// the edge where data enters and leaves the engine as files.
//
// In the data flow (source → router → partition pipelines → merge → sink) the
// unit of work is an Arrow record batch. A [Batch] is an arrow.Record plus an
// optional selection vector: filters produce a selection of row indices
// instead of copying the record, and later operators read only the selected
// rows. Kernels work on plain Go slices, so this package exposes zero-copy
// typed views of Arrow columns ([Int64Values], [Float64Values], [Validity],
// [StringData], ...) that honour the array offset of a sliced column, and
// fail with an error naming the column when the type is not the one asked for.
//
// Schema helpers find a column by name ([FieldIndex], [Column]) with an error
// that lists the available columns and suggests the nearest name, and locate
// the event-time column ([EventTimeIndex]): the int64 or timestamp column whose
// field metadata carries [EventTimeKey] = "true", or one named by the query.
//
// Builders ([BuildInt64], [BuildString], [NewRecord], ...) make columns and
// records from Go slices; tests across the repository use them.
//
// Sources and sinks read and write Parquet, Arrow IPC (file and stream), CSV
// and JSON lines through one interface: [OpenFile] / [NewReader] return a
// [Reader] (an array.RecordReader that must be closed) and [CreateFile] /
// [NewWriter] return a [Writer]. Every allocation goes through the
// memory.Allocator passed in, so tests can check that no buffer leaks.
// Malformed input yields an error naming the file, the line and the column;
// truncated or corrupt binary files yield an error, never a panic.
//
// Records returned by a Reader follow the Arrow convention: Record() is valid
// until the next call to Next; Retain what you keep.
//
// # Text formats
//
// CSV has a header row; an empty field is NULL for every type (so an empty
// string reads back as NULL); floats are written in Go's shortest round-trip
// form (strconv 'g', -1) with NaN, +Inf and -Inf; timestamps as RFC 3339 in
// UTC with the unit's fractional digits (read back from that form or from an
// integer count of the unit). JSON lines holds one flat object per line; NULL
// is null or a missing key; NaN and ±Inf are the strings "NaN", "Infinity"
// and "-Infinity". Without WithSchema both infer a schema from the first
// WithInferRows rows (int64, float64, bool, utf8; JSON columns appear in order
// of first use); a later value that does not fit is an error naming the line
// and column. Invalid UTF-8 in text becomes U+FFFD.
//
// # Binary formats
//
// Parquet (written plain, Snappy-compressed, with the Arrow schema stored so
// types and field metadata survive) and Arrow IPC are decoded by Arrow Go.
// Because Arrow v17 leaks buffers when a decode fails half-way, and trusts
// flatbuffer vector counts in IPC schemas, the readers decode through an
// allocator that frees a failed step's buffers and check IPC schema
// flatbuffers before decoding them.
package columnar
