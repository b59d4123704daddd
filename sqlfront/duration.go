package sqlfront

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// unitMillis maps canonical interval units to milliseconds.
var unitMillis = map[string]int64{
	"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000,
}

func mulMillis(n, unit int64, text string) (int64, error) {
	hi, lo := bits.Mul64(uint64(n), uint64(unit))
	if hi != 0 || lo > 1<<62 {
		return 0, fmt.Errorf("duration %s is too long", text)
	}
	return int64(lo), nil
}

// durationMillis converts a Velostream duration token (500ms, 30s, 1m, 2h,
// 1d) to milliseconds.
func durationMillis(text string) (int64, error) {
	i := 0
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	unit, ok := durationUnits[strings.ToLower(text[i:])]
	if i == 0 || !ok {
		return 0, fmt.Errorf("malformed duration %q (want an integer and one of ms, s, m, h, d)", text)
	}
	n, err := strconv.ParseInt(text[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %s is too long", text)
	}
	return mulMillis(n, unit, text)
}

// intervalMillis converts the parts of an INTERVAL literal to milliseconds:
// value "1" with unit "MINUTE", or value "1 minute" / "10 seconds" / "500ms"
// with an empty unit.
func intervalMillis(value, unit string) (int64, error) {
	v := strings.TrimSpace(value)
	if unit == "" {
		fields := strings.Fields(v)
		switch len(fields) {
		case 1:
			if ms, err := durationMillis(fields[0]); err == nil {
				return ms, nil
			}
			return 0, fmt.Errorf("malformed interval %s (want e.g. '1 minute' or INTERVAL '1' MINUTE)", quoteString(value))
		case 2:
			canon, ok := intervalUnits[strings.ToLower(fields[1])]
			if !ok {
				return 0, fmt.Errorf("unknown interval unit %q in %s (want millisecond, second, minute, hour or day)", fields[1], quoteString(value))
			}
			v, unit = fields[0], canon
		default:
			return 0, fmt.Errorf("malformed interval %s (want e.g. '1 minute' or INTERVAL '1' MINUTE)", quoteString(value))
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("interval value %s must be a non-negative integer", quoteString(value))
	}
	return mulMillis(n, unitMillis[unit], quoteString(value))
}

// ParseDuration reads a duration as the WITH settings write it: a Velostream
// duration (500ms, 5s, 1m, 2h, 1d), an interval text ("10 seconds") or a bare
// integer meaning milliseconds. It returns milliseconds.
func ParseDuration(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return n, nil
	}
	return intervalMillis(t, "")
}
