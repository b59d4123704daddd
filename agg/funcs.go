package agg

import (
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Func is an aggregate function.
type Func int

// The aggregate functions.
const (
	CountStar           Func = iota // COUNT(*): rows, NULLs included
	Count                           // COUNT(x): non-NULL values; with Distinct, distinct non-NULL values
	Sum                             // SUM(x): int64 for integers (overflow is an error), float64 for floats
	Avg                             // AVG(x): float64
	Min                             // MIN(x): input type; floats order NaN above every number and -0.0 below +0.0
	Max                             // MAX(x): input type, same order
	StddevPop                       // STDDEV_POP(x): float64
	StddevSamp                      // STDDEV_SAMP(x): float64, NULL below two values
	VarPop                          // VAR_POP(x): float64
	VarSamp                         // VAR_SAMP(x): float64, NULL below two values
	First                           // FIRST(x): the value (NULL included) of the group's first row in arrival order
	Last                            // LAST(x): the value (NULL included) of the group's last row in arrival order
	ApproxCountDistinct             // APPROX_COUNT_DISTINCT(x): int64, HyperLogLog (see hll.go)
)

var funcNames = [...]string{
	CountStar: "COUNT(*)", Count: "COUNT", Sum: "SUM", Avg: "AVG", Min: "MIN", Max: "MAX",
	StddevPop: "STDDEV_POP", StddevSamp: "STDDEV_SAMP", VarPop: "VAR_POP", VarSamp: "VAR_SAMP",
	First: "FIRST", Last: "LAST", ApproxCountDistinct: "APPROX_COUNT_DISTINCT",
}

// String returns the function's SQL name.
func (f Func) String() string {
	if f >= 0 && int(f) < len(funcNames) {
		return funcNames[f]
	}
	return fmt.Sprintf("Func(%d)", int(f))
}

// ParseFunc returns the function named name (case-insensitive SQL name;
// "COUNT(*)" or "COUNT_STAR" for CountStar).
func ParseFunc(name string) (Func, error) {
	u := strings.ToUpper(strings.TrimSpace(name))
	if u == "COUNT_STAR" {
		return CountStar, nil
	}
	for i, n := range funcNames {
		if u == n {
			return Func(i), nil
		}
	}
	return 0, fmt.Errorf("agg: unknown aggregate function %q", name)
}

// ResultType returns the type f produces for input type in (ignored by
// CountStar), or an error saying why in is not accepted.
func (f Func) ResultType(in arrow.DataType) (arrow.DataType, error) {
	switch f {
	case CountStar, Count:
		// COUNT(x) reads only x's validity: any type (COUNT(DISTINCT x)
		// needs a key type, checked when its state is made).
		return arrow.PrimitiveTypes.Int64, nil
	case ApproxCountDistinct:
		if !comparable(in) {
			return nil, fmt.Errorf("%s does not accept %s", f, in)
		}
		return arrow.PrimitiveTypes.Int64, nil
	case Sum:
		switch {
		case in.ID() == arrow.INT64 || in.ID() == arrow.INT32:
			return arrow.PrimitiveTypes.Int64, nil
		case isFloat(in):
			return arrow.PrimitiveTypes.Float64, nil
		}
		return nil, fmt.Errorf("SUM needs a numeric argument, got %s", in)
	case Avg, StddevPop, StddevSamp, VarPop, VarSamp:
		if !isNumeric(in) {
			return nil, fmt.Errorf("%s needs a numeric argument, got %s", f, in)
		}
		return arrow.PrimitiveTypes.Float64, nil
	case Min, Max, First, Last:
		if !comparable(in) {
			return nil, fmt.Errorf("%s does not accept %s", f, in)
		}
		return in, nil
	}
	return nil, fmt.Errorf("unknown aggregate %s", f)
}

// comparable reports whether values of dt can be aggregated by MIN/MAX/
// FIRST/LAST/COUNT DISTINCT.
func comparable(dt arrow.DataType) bool {
	return isIntLike(dt) || isFloat(dt) || dt.ID() == arrow.BOOL || dt.ID() == arrow.STRING
}

// state is one aggregate's per-group state, struct-of-arrays indexed by
// group id.
type state interface {
	// resize makes room for n groups; new groups start empty.
	resize(n int)
	// update folds the selected rows (sel nil: all) of arr into the groups
	// groups[row].
	update(groups []uint32, in *argInput) error
	// merge folds src's group i into this state's group mapping[i].
	merge(src state, mapping []uint32) error
	// emit returns the results of groups ids (nil: all groups).
	emit(mem memory.Allocator, ids []uint32) arrow.Array
	// compact keeps only groups keep (new group j = old keep[j]).
	compact(keep []uint32)
	reset()
	bytes() int
}

func newState(mem memory.Allocator, rows *groupRows, f Func, distinct bool, in arrow.DataType, label string) (state, error) {
	switch f {
	case CountStar:
		return &countState{star: true, rows: rows}, nil
	case Count:
		if distinct {
			return newCountDistinct(mem, in)
		}
		return &countState{rows: rows}, nil
	case Sum:
		if isFloat(in) {
			return &sumFloatState{rows: rows}, nil
		}
		return &sumIntState{label: label, rows: rows}, nil
	case Avg:
		return &sumFloatState{avg: true, rows: rows}, nil
	case Min, Max:
		switch {
		case isFloat(in):
			return &minMaxFloatState{max: f == Max, dt: in, rows: rows}, nil
		case isIntLike(in) || in.ID() == arrow.BOOL:
			return &minMaxIntState{max: f == Max, dt: in, rows: rows}, nil
		}
		return &minMaxState{max: f == Max, vs: newValueStore(in)}, nil
	case First, Last:
		return &firstLastState{last: f == Last, vs: newValueStore(in)}, nil
	case StddevPop, StddevSamp, VarPop, VarSamp:
		return &momentsState{f: f}, nil
	case ApproxCountDistinct:
		return &hllState{}, nil
	}
	return nil, fmt.Errorf("unknown aggregate %s", f)
}
