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
package columnar
