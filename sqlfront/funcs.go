package sqlfront

import (
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// scalarFuncs maps accepted scalar function names to their canonical Call
// name.
var scalarFuncs = map[string]string{
	"coalesce": "coalesce", "nullif": "nullif", "abs": "abs", "round": "round",
	"floor": "floor", "ceil": "ceil", "ceiling": "ceil", "lower": "lower", "upper": "upper",
	"length": "length", "len": "length", "char_length": "length", "character_length": "length",
	"substr": "substr", "substring": "substr", "concat": "concat",
	"time_bucket": "time_bucket", "date_trunc": "time_bucket",
}

// truncUnits are the DATE_TRUNC units with a fixed width.
var truncUnits = map[string]int64{
	"millisecond": 1, "milliseconds": 1, "second": 1000, "seconds": 1000, "minute": 60_000, "minutes": 60_000,
	"hour": 3_600_000, "hours": 3_600_000, "day": 86_400_000, "days": 86_400_000,
}

func sortStrings(s []string) { sort.Strings(s) }

// bindScalar type-checks a scalar function call over bound arguments.
func bindScalar(e *FuncCall, args []BoundExpr) (BoundExpr, error) {
	canon, ok := scalarFuncs[e.Name]
	upper := strings.ToUpper(e.Name)
	if !ok {
		return nil, errAt(e.P, "unknown function %s%s", upper, suggest(e.Name, allFuncNames()))
	}
	nargs := func(lo, hi int) error {
		if len(args) < lo || (hi >= 0 && len(args) > hi) {
			switch {
			case hi < 0:
				return errAt(e.P, "%s takes at least %d argument(s), got %d", upper, lo, len(args))
			case lo == hi:
				return errAt(e.P, "%s takes %d argument(s), got %d", upper, lo, len(args))
			}
			return errAt(e.P, "%s takes %d to %d arguments, got %d", upper, lo, hi, len(args))
		}
		return nil
	}
	argErr := func(i int, want string) error {
		return errAt(e.Args[i].Pos(), "%s argument %d must be %s, got %s in %s", upper, i+1, want, typeString(args[i].DataType()), FormatExpr(e))
	}
	call := func(t arrow.DataType, null bool, a ...BoundExpr) BoundExpr {
		return &Call{Typed: Typed{Type: t, Null: null}, Func: canon, Args: a}
	}
	numericArg := func(i int) (arrow.DataType, error) {
		t := args[i].DataType()
		if !isNumeric(t) && !isNull(t) {
			return nil, argErr(i, "numeric")
		}
		return arithType(t, t), nil
	}
	stringArg := func(i int) error {
		if t := args[i].DataType(); !isString(t) && !isNull(t) {
			return argErr(i, "a string")
		}
		return nil
	}
	switch canon {
	case "coalesce":
		if err := nargs(1, -1); err != nil {
			return nil, err
		}
		list, t, err := unify(args, e, "combine")
		if err != nil {
			return nil, err
		}
		null := true
		for _, a := range list {
			null = null && a.Nullable()
		}
		return call(t, null, list...), nil
	case "nullif":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		list, t, err := unify(args, e, "compare")
		if err != nil {
			return nil, err
		}
		return call(t, true, list...), nil
	case "abs", "floor", "ceil":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		t, err := numericArg(0)
		if err != nil {
			return nil, err
		}
		return call(t, args[0].Nullable(), castTo(args[0], t)), nil
	case "round":
		if err := nargs(1, 2); err != nil {
			return nil, err
		}
		t, err := numericArg(0)
		if err != nil {
			return nil, err
		}
		out := []BoundExpr{castTo(args[0], t)}
		if len(args) == 2 {
			k, ok := args[1].(*Const)
			if !ok || k.Type.ID() != arrow.INT64 || k.Value == nil {
				return nil, errAt(e.Args[1].Pos(), "ROUND digits must be an integer constant, got %s", FormatExpr(e.Args[1]))
			}
			out = append(out, k)
		}
		return call(t, args[0].Nullable(), out...), nil
	case "lower", "upper":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if err := stringArg(0); err != nil {
			return nil, err
		}
		return call(typeUtf8, args[0].Nullable(), castTo(args[0], typeUtf8)), nil
	case "length":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if err := stringArg(0); err != nil {
			return nil, err
		}
		return call(typeInt64, args[0].Nullable(), castTo(args[0], typeUtf8)), nil
	case "substr":
		if err := nargs(2, 3); err != nil {
			return nil, err
		}
		if err := stringArg(0); err != nil {
			return nil, err
		}
		out := []BoundExpr{castTo(args[0], typeUtf8)}
		for i := 1; i < len(args); i++ {
			if t := args[i].DataType(); !isInteger(t) && !isNull(t) {
				return nil, argErr(i, "an integer")
			}
			out = append(out, castTo(args[i], typeInt64))
		}
		return call(typeUtf8, anyNullable(args...), out...), nil
	case "concat":
		if err := nargs(1, -1); err != nil {
			return nil, err
		}
		out := make([]BoundExpr, len(args))
		for i, a := range args {
			out[i] = castTo(a, typeUtf8)
		}
		return call(typeUtf8, false, out...), nil
	}
	// time_bucket(width, ts) and date_trunc('unit', ts).
	if err := nargs(2, 2); err != nil {
		return nil, err
	}
	ts := args[1]
	if t := ts.DataType(); t.ID() != arrow.INT64 && !isTimestamp(t) {
		return nil, argErr(1, "int64 milliseconds or a timestamp")
	}
	k, isConst := args[0].(*Const)
	var width int64
	switch {
	case e.Name == "date_trunc":
		unit, isStr := "", false
		if isConst {
			unit, isStr = k.Value.(string)
		}
		w, known := truncUnits[strings.ToLower(unit)]
		if !isStr || !known {
			return nil, errAt(e.Args[0].Pos(), "DATE_TRUNC unit must be one of 'millisecond', 'second', 'minute', 'hour', 'day' (fixed-width units), got %s", FormatExpr(e.Args[0]))
		}
		width = w
	case isConst && k.Type.ID() == arrow.DURATION && k.Value != nil:
		width = k.Value.(int64)
	default:
		return nil, errAt(e.Args[0].Pos(), "TIME_BUCKET width must be a duration constant such as INTERVAL '1' MINUTE or 1m, got %s", FormatExpr(e.Args[0]))
	}
	if width <= 0 {
		return nil, errAt(e.Args[0].Pos(), "%s width must be positive", upper)
	}
	return call(ts.DataType(), ts.Nullable(), ts, &Const{Typed: Typed{Type: typeInt64}, Value: width}), nil
}
