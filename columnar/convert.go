package columnar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Text conversions shared by the CSV and JSON lines readers and writers.

// textTypeSupported reports whether the text readers can parse type t.
func textTypeSupported(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL, arrow.STRING, arrow.LARGE_STRING, arrow.TIMESTAMP:
		return true
	}
	return false
}

// checkTextSchema fails for the first column the text readers cannot parse.
func checkTextSchema(name string, f Format, s *arrow.Schema) error {
	for _, fl := range s.Fields() {
		if !textTypeSupported(fl.Type) {
			return fmt.Errorf("columnar: %s: column %q: type %s cannot be read from %s (supported: integers, float32, float64, bool, utf8, timestamp)",
				name, fl.Name, fl.Type, f)
		}
	}
	return nil
}

// parseBool accepts true/false in any case and strconv.ParseBool's forms.
func parseBool(s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	return strconv.ParseBool(s)
}

// parseTimestamp accepts an integer count of unit since the epoch, or an
// ISO 8601 / RFC 3339 date-time (UTC unless it carries an offset).
func parseTimestamp(s string, unit arrow.TimeUnit) (int64, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	ts, err := arrow.TimestampFromString(s, unit)
	if err != nil {
		return 0, fmt.Errorf("not an integer or an ISO 8601 timestamp")
	}
	return int64(ts), nil
}

// timestampLayouts has the text form the writers use per unit: RFC 3339 in
// UTC with exactly the unit's fractional digits, which parseTimestamp reads
// back without loss.
var timestampLayouts = [...]string{
	arrow.Second:      "2006-01-02T15:04:05Z",
	arrow.Millisecond: "2006-01-02T15:04:05.000Z",
	arrow.Microsecond: "2006-01-02T15:04:05.000000Z",
	arrow.Nanosecond:  "2006-01-02T15:04:05.000000000Z",
}

func appendTimestamp(buf []byte, v int64, unit arrow.TimeUnit) []byte {
	var t time.Time
	switch unit {
	case arrow.Second:
		t = time.Unix(v, 0)
	case arrow.Millisecond:
		t = time.UnixMilli(v)
	case arrow.Microsecond:
		t = time.UnixMicro(v)
	default:
		t = time.Unix(0, v)
	}
	return t.UTC().AppendFormat(buf, timestampLayouts[unit])
}

// valueAppender appends one text value to a column builder.
type valueAppender func(s string) error

// newTextAppender returns the parser for a column of builder b's type; the
// caller handles nulls. Errors describe the value, not the position.
func newTextAppender(b array.Builder) valueAppender {
	intAppend := func(bits int, put func(int64)) valueAppender {
		return func(s string) error {
			v, err := strconv.ParseInt(s, 10, bits)
			if err != nil {
				return numErr(s, b.Type(), err)
			}
			put(v)
			return nil
		}
	}
	uintAppend := func(bits int, put func(uint64)) valueAppender {
		return func(s string) error {
			v, err := strconv.ParseUint(s, 10, bits)
			if err != nil {
				return numErr(s, b.Type(), err)
			}
			put(v)
			return nil
		}
	}
	switch bb := b.(type) {
	case *array.Int64Builder:
		return intAppend(64, func(v int64) { bb.Append(v) })
	case *array.Int32Builder:
		return intAppend(32, func(v int64) { bb.Append(int32(v)) })
	case *array.Int16Builder:
		return intAppend(16, func(v int64) { bb.Append(int16(v)) })
	case *array.Int8Builder:
		return intAppend(8, func(v int64) { bb.Append(int8(v)) })
	case *array.Uint64Builder:
		return uintAppend(64, func(v uint64) { bb.Append(v) })
	case *array.Uint32Builder:
		return uintAppend(32, func(v uint64) { bb.Append(uint32(v)) })
	case *array.Uint16Builder:
		return uintAppend(16, func(v uint64) { bb.Append(uint16(v)) })
	case *array.Uint8Builder:
		return uintAppend(8, func(v uint64) { bb.Append(uint8(v)) })
	case *array.Float64Builder:
		return func(s string) error {
			v, err := parseFloat(s, 64)
			if err != nil {
				return numErr(s, b.Type(), err)
			}
			bb.Append(v)
			return nil
		}
	case *array.Float32Builder:
		return func(s string) error {
			v, err := parseFloat(s, 32)
			if err != nil {
				return numErr(s, b.Type(), err)
			}
			bb.Append(float32(v))
			return nil
		}
	case *array.BooleanBuilder:
		return func(s string) error {
			v, err := parseBool(s)
			if err != nil {
				return fmt.Errorf("cannot parse %q as bool", s)
			}
			bb.Append(v)
			return nil
		}
	case *array.StringBuilder:
		return func(s string) error { bb.Append(validUTF8(s)); return nil }
	case *array.LargeStringBuilder:
		return func(s string) error { bb.Append(validUTF8(s)); return nil }
	case *array.TimestampBuilder:
		unit := bb.Type().(*arrow.TimestampType).Unit
		return func(s string) error {
			v, err := parseTimestamp(s, unit)
			if err != nil {
				return fmt.Errorf("cannot parse %q as %s: %w", s, b.Type(), err)
			}
			bb.Append(arrow.Timestamp(v))
			return nil
		}
	}
	panic(fmt.Sprintf("columnar: no text parser for %s", b.Type()))
}

// validUTF8 replaces invalid UTF-8 sequences with U+FFFD: Arrow utf8
// columns must hold valid UTF-8, and encoding/json decodes the same way.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// parseFloat is strconv.ParseFloat that also accepts JSON-style Infinity.
func parseFloat(s string, bits int) (float64, error) {
	v, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, nil // ±Inf or ±0: the nearest representable value
		}
		return 0, err
	}
	return v, nil
}

func numErr(s string, t arrow.DataType, err error) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return fmt.Errorf("%q is out of range for %s", s, t)
	}
	return fmt.Errorf("cannot parse %q as %s", s, t)
}

// appendFloat writes v in Go's shortest round-trip form ('g', -1).
func appendFloat(buf []byte, v float64, bits int) []byte {
	return strconv.AppendFloat(buf, v, 'g', -1, bits)
}
