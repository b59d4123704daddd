package main

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// ColSum is an order-independent checksum of one result column: numeric
// columns sum their values as float64; string columns record the total
// byte length and the smallest and largest value.
type ColSum struct {
	Numeric  bool
	Sum      float64
	Len      int64
	Min, Max string
}

// Checksum is an order-independent fingerprint of a query result: its row
// count and one ColSum per checked column.
type Checksum struct {
	Rows int64
	Cols map[string]ColSum
}

// tolerance bounds the relative difference of numeric sums: engines add in
// different orders (and DuckDB's AVG is compensated), so the last bits differ.
const tolerance = 1e-6

// Agree returns nil when a and b have the same row count and agree on
// every column both have; otherwise an error naming the first difference.
func Agree(a, b Checksum) error {
	if a.Rows != b.Rows {
		return fmt.Errorf("row counts differ: %d vs %d", a.Rows, b.Rows)
	}
	names := make([]string, 0, len(a.Cols))
	for n := range a.Cols {
		if _, ok := b.Cols[n]; ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 && (len(a.Cols) > 0 || len(b.Cols) > 0) {
		return fmt.Errorf("no column in common")
	}
	sort.Strings(names)
	for _, n := range names {
		x, y := a.Cols[n], b.Cols[n]
		if x.Numeric != y.Numeric {
			return fmt.Errorf("column %s: numeric in one result, string in the other", n)
		}
		if x.Numeric {
			d := math.Abs(x.Sum - y.Sum)
			if d > tolerance*math.Max(math.Abs(x.Sum), math.Abs(y.Sum)) && d > 1e-9 {
				return fmt.Errorf("column %s: sums differ: %.10g vs %.10g", n, x.Sum, y.Sum)
			}
			continue
		}
		if x.Len != y.Len || x.Min != y.Min || x.Max != y.Max {
			return fmt.Errorf("column %s: strings differ: (len %d, %q…%q) vs (len %d, %q…%q)", n, x.Len, x.Min, x.Max, y.Len, y.Min, y.Max)
		}
	}
	return nil
}

// summer accumulates a Checksum from columns.
type summer struct{ c Checksum }

func newSummer() *summer { return &summer{c: Checksum{Cols: map[string]ColSum{}}} }

func (s *summer) float(name string, v float64) {
	c := s.c.Cols[name]
	c.Numeric = true
	c.Sum += v
	s.c.Cols[name] = c
}

func (s *summer) str(name string, v string) {
	c, ok := s.c.Cols[name]
	c.Len += int64(len(v))
	if !ok || v < c.Min {
		c.Min = v
	}
	if !ok || v > c.Max {
		c.Max = v
	}
	s.c.Cols[name] = c
}

// ChecksumRecords fingerprints the named columns (all when cols is empty)
// of a stream of records.
func ChecksumRecords(rdr array.RecordReader, cols []string) (Checksum, error) {
	s := newSummer()
	want := map[string]bool{}
	for _, c := range cols {
		want[strings.ToLower(c)] = true
	}
	for rdr.Next() {
		rec := rdr.Record()
		s.c.Rows += rec.NumRows()
		for i, f := range rec.Schema().Fields() {
			if len(want) > 0 && !want[strings.ToLower(f.Name)] {
				continue
			}
			if err := s.column(strings.ToLower(f.Name), rec.Column(i)); err != nil {
				return Checksum{}, err
			}
		}
	}
	if err := rdr.Err(); err != nil {
		return Checksum{}, err
	}
	return s.c, nil
}

func (s *summer) column(name string, col arrow.Array) error {
	n := col.Len()
	switch a := col.(type) {
	case *array.Int64:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				s.float(name, float64(a.Value(i)))
			}
		}
	case *array.Float64:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				s.float(name, a.Value(i))
			}
		}
	case *array.String:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				s.str(name, a.Value(i))
			}
		}
	default:
		return fmt.Errorf("checksum: column %s: unsupported type %s", name, col.DataType())
	}
	return nil
}
