package columnar

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/internal/editdist"
)

// EventTimeKey is the field metadata key that declares a column the event-time
// column of its schema: a field whose metadata maps EventTimeKey to "true" is
// the column windows and watermarks read event times from. It must be int64
// (milliseconds since the Unix epoch by convention) or a timestamp, and at
// most one field of a schema may carry it. Parquet and Arrow IPC files keep
// field metadata, so the declaration survives a round trip through them.
const EventTimeKey = "velo.event_time"

// FieldIndex returns the index of the field called name in schema. Names
// match exactly. When there is no such field the error lists the available
// columns and suggests the nearest name by edit distance.
func FieldIndex(schema *arrow.Schema, name string) (int, error) {
	idx := schema.FieldIndices(name)
	if len(idx) == 1 {
		return idx[0], nil
	}
	names := fieldNames(schema)
	if len(idx) > 1 {
		return -1, fmt.Errorf("columnar: column name %q is ambiguous: it appears %d times in (%s)", name, len(idx), strings.Join(names, ", "))
	}
	avail := "the schema has no columns"
	if len(names) > 0 {
		avail = "available: " + strings.Join(names, ", ")
	}
	if s, ok := nearestName(name, names); ok {
		avail += fmt.Sprintf("; did you mean %q?", s)
	}
	return -1, fmt.Errorf("columnar: %w %q (%s)", ErrNoColumn, name, avail)
}

// ErrNoColumn is wrapped by errors for a column name that is not in a schema.
var ErrNoColumn = errors.New("no such column")

// Column returns the column called name in rec, with FieldIndex's error.
func Column(rec arrow.Record, name string) (arrow.Array, error) {
	i, err := FieldIndex(rec.Schema(), name)
	if err != nil {
		return nil, err
	}
	return rec.Column(i), nil
}

// EventTimeField returns a nullable field of type t declared as the event-time
// column through EventTimeKey.
func EventTimeField(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true,
		Metadata: arrow.NewMetadata([]string{EventTimeKey}, []string{"true"})}
}

// WithEventTime returns a copy of schema in which the column called name is
// declared the event-time column (and no other column is). It fails when the
// column does not exist or is not int64 or timestamp.
func WithEventTime(schema *arrow.Schema, name string) (*arrow.Schema, error) {
	idx, err := FieldIndex(schema, name)
	if err != nil {
		return nil, fmt.Errorf("columnar: event-time column: %w", err)
	}
	if err := checkEventTimeType(schema.Field(idx)); err != nil {
		return nil, err
	}
	fields := schema.Fields()
	for i := range fields {
		keys, vals := withoutKey(fields[i].Metadata, EventTimeKey)
		if i == idx {
			keys, vals = append(keys, EventTimeKey), append(vals, "true")
		}
		if len(keys) == 0 {
			fields[i].Metadata = arrow.Metadata{}
		} else {
			fields[i].Metadata = arrow.NewMetadata(keys, vals)
		}
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md), nil
}

// EventTimeIndex returns the index of the event-time column of schema.
//
// When name is not empty the query chose the column: it is looked up by name
// (with FieldIndex's error) and its declaration in metadata, if any, is not
// consulted. Otherwise the column is the one whose field metadata carries
// EventTimeKey = "true"; -1 and a nil error mean the schema declares none.
// Declaring two columns is an error naming both, and so is an event-time
// column that is neither int64 nor timestamp.
func EventTimeIndex(schema *arrow.Schema, name string) (int, error) {
	if name != "" {
		idx, err := FieldIndex(schema, name)
		if err != nil {
			return -1, fmt.Errorf("columnar: event-time column: %w", err)
		}
		return idx, checkEventTimeType(schema.Field(idx))
	}
	found := -1
	for i, f := range schema.Fields() {
		v, ok := f.Metadata.GetValue(EventTimeKey)
		if !ok || !strings.EqualFold(strings.TrimSpace(v), "true") {
			continue
		}
		if found >= 0 {
			return -1, fmt.Errorf("columnar: event time declared twice (%s=true on %q and %q); declare one column",
				EventTimeKey, schema.Field(found).Name, f.Name)
		}
		found = i
	}
	if found < 0 {
		return -1, nil
	}
	return found, checkEventTimeType(schema.Field(found))
}

func checkEventTimeType(f arrow.Field) error {
	switch f.Type.ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		return nil
	}
	return fmt.Errorf("columnar: event-time column %q is %s, want int64 or timestamp: %w", f.Name, f.Type, ErrType)
}

func withoutKey(md arrow.Metadata, key string) (keys, vals []string) {
	for i, k := range md.Keys() {
		if k != key {
			keys = append(keys, k)
			vals = append(vals, md.Values()[i])
		}
	}
	return keys, vals
}

func fieldNames(schema *arrow.Schema) []string {
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	return names
}

// nearestName returns the candidate closest to name by case-insensitive edit
// distance, if it is close enough to be a plausible typo: at most a third of
// the longer name's length, and always when within 2 edits.
func nearestName(name string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editdist.Distance(strings.ToLower(name), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 {
		return "", false
	}
	limit := max(len([]rune(name)), len([]rune(best))) / 3
	return best, bestD <= max(limit, 2)
}
