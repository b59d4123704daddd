package sqlfront

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
)

// Arrow types the binder produces.
var (
	typeInt64   arrow.DataType = arrow.PrimitiveTypes.Int64
	typeInt32   arrow.DataType = arrow.PrimitiveTypes.Int32
	typeFloat64 arrow.DataType = arrow.PrimitiveTypes.Float64
	typeFloat32 arrow.DataType = arrow.PrimitiveTypes.Float32
	typeBool    arrow.DataType = arrow.FixedWidthTypes.Boolean
	typeUtf8    arrow.DataType = arrow.BinaryTypes.String
	typeDate32  arrow.DataType = arrow.FixedWidthTypes.Date32
	typeNull    arrow.DataType = arrow.Null
	// typeDuration is the type of INTERVAL and 500ms literals: milliseconds.
	typeDuration arrow.DataType = arrow.FixedWidthTypes.Duration_ms
)

func timestampType(u arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: u} }

func isInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32:
		return true
	}
	return false
}

func isFloat(t arrow.DataType) bool {
	return t.ID() == arrow.FLOAT32 || t.ID() == arrow.FLOAT64
}

func isNumeric(t arrow.DataType) bool { return isInteger(t) || isFloat(t) }
func isString(t arrow.DataType) bool  { return t.ID() == arrow.STRING || t.ID() == arrow.LARGE_STRING }
func isNull(t arrow.DataType) bool    { return t.ID() == arrow.NULL }
func isBool(t arrow.DataType) bool    { return t.ID() == arrow.BOOL }
func isTimestamp(t arrow.DataType) bool {
	return t.ID() == arrow.TIMESTAMP
}
func isTemporal(t arrow.DataType) bool { return isTimestamp(t) || t.ID() == arrow.DATE32 }

// isComparable reports whether MIN/MAX, ORDER BY and comparisons accept t.
func isComparable(t arrow.DataType) bool {
	return isNumeric(t) || isString(t) || isBool(t) || isTemporal(t) || isNull(t)
}

// typeString names a type in messages and EXPLAIN output.
func typeString(t arrow.DataType) string {
	if ts, ok := t.(*arrow.TimestampType); ok {
		if ts.TimeZone != "" {
			return "timestamp[" + ts.Unit.String() + ", tz=" + ts.TimeZone + "]"
		}
		return "timestamp[" + ts.Unit.String() + "]"
	}
	return t.String()
}

// unitsPerSecond returns how many ticks of u make a second.
func unitsPerSecond(u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return 1
	case arrow.Millisecond:
		return 1_000
	case arrow.Microsecond:
		return 1_000_000
	}
	return 1_000_000_000
}

// commonType returns the type two operands are converted to before a
// comparison, CASE/COALESCE branch merge or IN list: equal types stay,
// NULL takes the other type, integers widen to int64, any float makes
// float64, timestamps take the finer unit, date32 meets timestamp as
// timestamp.
func commonType(a, b arrow.DataType) (arrow.DataType, bool) {
	switch {
	case arrow.TypeEqual(a, b):
		return a, true
	case isNull(a):
		return b, true
	case isNull(b):
		return a, true
	case isInteger(a) && isInteger(b):
		return typeInt64, true
	case isNumeric(a) && isNumeric(b):
		return typeFloat64, true
	case isString(a) && isString(b):
		return typeUtf8, true
	case isTimestamp(a) && isTimestamp(b):
		ta, tb := a.(*arrow.TimestampType), b.(*arrow.TimestampType)
		if ta.TimeZone != tb.TimeZone {
			return nil, false
		}
		if tb.Unit > ta.Unit { // arrow.TimeUnit counts from Second to Nanosecond
			return b, true
		}
		return a, true
	case isTimestamp(a) && b.ID() == arrow.DATE32:
		return a, true
	case a.ID() == arrow.DATE32 && isTimestamp(b):
		return b, true
	}
	return nil, false
}

// arithType is the result type of integer/float arithmetic: int64 when both
// are integers, float64 otherwise.
func arithType(a, b arrow.DataType) arrow.DataType {
	if (isInteger(a) || isNull(a)) && (isInteger(b) || isNull(b)) {
		return typeInt64
	}
	return typeFloat64
}

// canCast reports whether an explicit CAST from one type to another exists.
func canCast(from, to arrow.DataType) bool {
	switch {
	case arrow.TypeEqual(from, to), isNull(from), isString(to):
		return true
	case isNumeric(from) && isNumeric(to):
		return true
	case isString(from):
		return isNumeric(to) || isBool(to) || isTemporal(to)
	case isBool(from):
		return isInteger(to)
	case isInteger(from) && isBool(to):
		return true
	case from.ID() == arrow.INT64 && isTimestamp(to), isTimestamp(from) && to.ID() == arrow.INT64:
		return true
	case isTemporal(from) && isTemporal(to):
		return true
	}
	return false
}

// typeFromName maps a SQL type name to its Arrow type. TIMESTAMP is
// microseconds as in DuckDB; TIMESTAMP_S/_MS/_US/_NS pick the unit.
func typeFromName(tn TypeName) (arrow.DataType, error) {
	var t arrow.DataType
	switch tn.Name {
	case "BIGINT", "INT8", "INT64", "LONG":
		t = typeInt64
	case "INTEGER", "INT", "INT4", "INT32":
		t = typeInt32
	case "DOUBLE", "DOUBLE PRECISION", "FLOAT8", "FLOAT64":
		t = typeFloat64
	case "REAL", "FLOAT", "FLOAT4", "FLOAT32":
		t = typeFloat32
	case "BOOLEAN", "BOOL":
		t = typeBool
	case "VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR":
		if len(tn.Args) > 1 {
			return nil, fmt.Errorf("type %s takes at most one length", tn)
		}
		return typeUtf8, nil
	case "TIMESTAMP", "DATETIME", "TIMESTAMP_US":
		t = timestampType(arrow.Microsecond)
	case "TIMESTAMP_MS":
		t = timestampType(arrow.Millisecond)
	case "TIMESTAMP_S":
		t = timestampType(arrow.Second)
	case "TIMESTAMP_NS":
		t = timestampType(arrow.Nanosecond)
	case "DATE":
		t = typeDate32
	default:
		return nil, fmt.Errorf("unknown type %s%s", tn.Name, suggest(tn.Name, knownTypeNames))
	}
	if len(tn.Args) > 0 {
		return nil, fmt.Errorf("type %s takes no parameters", tn.Name)
	}
	return t, nil
}

var knownTypeNames = []string{"BIGINT", "INTEGER", "DOUBLE", "REAL", "FLOAT", "BOOLEAN", "VARCHAR", "TEXT",
	"TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP_NS", "DATE"}

var timestampLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04", "2006-01-02"}

// parseTimestamp reads a TIMESTAMP literal (UTC) into ticks of unit u.
func parseTimestamp(s string, u arrow.TimeUnit) (int64, error) {
	for _, layout := range timestampLayouts {
		t, err := time.Parse(layout, strings.TrimSpace(s))
		if err != nil {
			continue
		}
		sec, nsec := t.Unix(), int64(t.Nanosecond())
		per := unitsPerSecond(u)
		if sec > math.MaxInt64/per-1 || sec < math.MinInt64/per+1 {
			return 0, fmt.Errorf("timestamp %s out of range for %s", quoteString(s), u)
		}
		return sec*per + nsec/(1_000_000_000/per), nil
	}
	return 0, fmt.Errorf("malformed timestamp %s (want 'YYYY-MM-DD[ HH:MM:SS[.fff]]')", quoteString(s))
}

// parseDate reads a DATE literal into days since the epoch.
func parseDate(s string) (int32, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("malformed date %s (want 'YYYY-MM-DD')", quoteString(s))
	}
	return int32(t.Unix() / 86400), nil
}

// rescaleTime converts ticks of unit from into ticks of unit to, reporting
// false on overflow or when precision would be lost.
func rescaleTime(v int64, from, to arrow.TimeUnit) (int64, bool) {
	pf, pt := unitsPerSecond(from), unitsPerSecond(to)
	if pt >= pf {
		m := pt / pf
		if v > math.MaxInt64/m || v < math.MinInt64/m {
			return 0, false
		}
		return v * m, true
	}
	d := pf / pt
	if v%d != 0 {
		return 0, false
	}
	return v / d, true
}

// foldCast converts a constant to type to at bind time when that is exact;
// ok is false when the conversion must happen at run time (or fails).
func foldCast(c *Const, to arrow.DataType) (*Const, bool, error) {
	out := &Const{Typed: Typed{Type: to, Null: c.Null}}
	if c.Value == nil {
		out.Null = true
		return out, true, nil
	}
	switch v := c.Value.(type) {
	case int64:
		switch {
		case to.ID() == arrow.INT64:
			out.Value = v
		case to.ID() == arrow.INT32 && isInteger(c.Type):
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, false, nil
			}
			out.Value = int32(v)
		case to.ID() == arrow.FLOAT64:
			out.Value = float64(v)
		case isTimestamp(c.Type) && isTimestamp(to):
			r, ok := rescaleTime(v, c.Type.(*arrow.TimestampType).Unit, to.(*arrow.TimestampType).Unit)
			if !ok {
				return nil, false, nil
			}
			out.Value = r
		default:
			return nil, false, nil
		}
	case int32:
		switch {
		case c.Type.ID() == arrow.DATE32 && isTimestamp(to):
			r, ok := rescaleTime(int64(v)*86400, arrow.Second, to.(*arrow.TimestampType).Unit)
			if !ok {
				return nil, false, nil
			}
			out.Value = r
		case to.ID() == arrow.INT64:
			out.Value = int64(v)
		case to.ID() == arrow.FLOAT64:
			out.Value = float64(v)
		default:
			return nil, false, nil
		}
	case float64:
		if to.ID() != arrow.FLOAT32 || float64(float32(v)) != v {
			return nil, false, nil
		}
		out.Value = float32(v)
	case float32:
		if to.ID() != arrow.FLOAT64 {
			return nil, false, nil
		}
		out.Value = float64(v)
	case string:
		switch {
		case isTimestamp(to):
			ts, err := parseTimestamp(v, to.(*arrow.TimestampType).Unit)
			if err != nil {
				return nil, false, err
			}
			out.Value = ts
		case to.ID() == arrow.DATE32:
			d, err := parseDate(v)
			if err != nil {
				return nil, false, err
			}
			out.Value = d
		case isString(to):
			out.Value = v
		default:
			return nil, false, nil
		}
	default:
		return nil, false, nil
	}
	return out, true, nil
}

// formatConst prints a constant as a SQL literal.
func formatConst(c *Const) string {
	switch v := c.Value.(type) {
	case nil:
		return "NULL"
	case string:
		return quoteString(v)
	case bool:
		if v {
			return "TRUE"
		}
		return "FALSE"
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case int64:
		switch t := c.Type.(type) {
		case *arrow.TimestampType:
			return "TIMESTAMP " + quoteString(arrow.Timestamp(v).ToTime(t.Unit).UTC().Format("2006-01-02 15:04:05.999999999"))
		case *arrow.DurationType:
			return strconv.FormatInt(v, 10) + t.Unit.String()
		}
		return strconv.FormatInt(v, 10)
	case int32:
		if c.Type.ID() == arrow.DATE32 {
			return "DATE " + quoteString(arrow.Date32(v).ToTime().Format("2006-01-02"))
		}
		return strconv.FormatInt(int64(v), 10)
	}
	return fmt.Sprint(c.Value)
}
