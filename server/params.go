package server

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// placeholders returns the byte offsets of the ? parameter markers in sql,
// skipping string literals ('…' with ” escapes), quoted identifiers ("…"
// with "" escapes), -- line comments and /* */ comments. An unterminated
// literal or comment ends the scan; the engine reports it when the
// statement runs.
func placeholders(sql string) []int {
	var out []int
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '?':
			out = append(out, i)
		case c == '\'' || c == '"':
			for i++; i < len(sql); i++ {
				if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c {
						i++
						continue
					}
					break
				}
			}
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 3
		}
	}
	return out
}

// substitute replaces the markers at offsets with lits.
func substitute(sql string, offsets []int, lits []string) string {
	var b strings.Builder
	prev := 0
	for k, off := range offsets {
		b.WriteString(sql[prev:off])
		b.WriteString(lits[k])
		prev = off + 1
	}
	b.WriteString(sql[prev:])
	return b.String()
}

// literal renders row i of col as a SQL literal of its type: NULL, an
// integer, a floating-point number (always with a '.' or an exponent), TRUE
// or FALSE, or a quoted string with quotes doubled. Negative numbers are
// parenthesised so they stay one operand next to any operator.
func literal(col arrow.Array, i int) (string, error) {
	if col.IsNull(i) {
		return "NULL", nil
	}
	switch a := col.(type) {
	case *array.Int8:
		return intLit(int64(a.Value(i))), nil
	case *array.Int16:
		return intLit(int64(a.Value(i))), nil
	case *array.Int32:
		return intLit(int64(a.Value(i))), nil
	case *array.Int64:
		return intLit(a.Value(i)), nil
	case *array.Uint8:
		return strconv.FormatUint(uint64(a.Value(i)), 10), nil
	case *array.Uint16:
		return strconv.FormatUint(uint64(a.Value(i)), 10), nil
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10), nil
	case *array.Uint64:
		v := a.Value(i)
		if v > math.MaxInt64 {
			return "", fmt.Errorf("%d does not fit BIGINT", v)
		}
		return strconv.FormatUint(v, 10), nil
	case *array.Float32:
		return floatLit(float64(a.Value(i)), 32)
	case *array.Float64:
		return floatLit(a.Value(i), 64)
	case *array.Boolean:
		if a.Value(i) {
			return "TRUE", nil
		}
		return "FALSE", nil
	case *array.String:
		return quote(a.Value(i)), nil
	case *array.LargeString:
		return quote(a.Value(i)), nil
	}
	return "", fmt.Errorf("type %s is not supported (bind integers, floats, booleans, strings or NULL)", col.DataType())
}

func intLit(v int64) string {
	switch {
	case v == math.MinInt64:
		return "(-9223372036854775807 - 1)"
	case v < 0:
		return "(" + strconv.FormatInt(v, 10) + ")"
	}
	return strconv.FormatInt(v, 10)
}

func floatLit(v float64, bits int) (string, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "", fmt.Errorf("%v has no SQL literal", v)
	}
	s := strconv.FormatFloat(v, 'g', -1, bits)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	if v < 0 || (v == 0 && math.Signbit(v)) {
		return "(" + s + ")", nil
	}
	return s, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
