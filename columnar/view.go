package columnar

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"

	"github.com/velo-engine/velo/kernels"
)

// The typed views below share the column's memory: they copy nothing, and the
// returned slices are valid as long as the array is. They honour the array's
// offset, so element i of a view is row i of a sliced array. Never write
// through them: Arrow buffers may be shared by several records. Null slots
// hold unspecified values; check Validity.

// Int64Values returns the values of an int64 column.
func Int64Values(a arrow.Array) ([]int64, error) {
	arr, ok := a.(*array.Int64)
	if !ok {
		return nil, typeError(a, "int64")
	}
	return arr.Int64Values(), nil
}

// Int32Values returns the values of an int32 column.
func Int32Values(a arrow.Array) ([]int32, error) {
	arr, ok := a.(*array.Int32)
	if !ok {
		return nil, typeError(a, "int32")
	}
	return arr.Int32Values(), nil
}

// Float64Values returns the values of a float64 column.
func Float64Values(a arrow.Array) ([]float64, error) {
	arr, ok := a.(*array.Float64)
	if !ok {
		return nil, typeError(a, "float64")
	}
	return arr.Float64Values(), nil
}

// Float32Values returns the values of a float32 column.
func Float32Values(a arrow.Array) ([]float32, error) {
	arr, ok := a.(*array.Float32)
	if !ok {
		return nil, typeError(a, "float32")
	}
	return arr.Float32Values(), nil
}

// TimestampValues returns the values of a timestamp column as int64 counts of
// its unit since the Unix epoch, and the unit.
func TimestampValues(a arrow.Array) ([]int64, arrow.TimeUnit, error) {
	arr, ok := a.(*array.Timestamp)
	if !ok {
		return nil, 0, typeError(a, "timestamp")
	}
	ts := arr.TimestampValues()
	unit := arr.DataType().(*arrow.TimestampType).Unit
	return unsafe.Slice((*int64)(unsafe.SliceData(ts)), len(ts)), unit, nil
}

// TimeValues returns the values of an int64 or timestamp column as int64s:
// the two types an event-time column may have.
func TimeValues(a arrow.Array) ([]int64, error) {
	switch arr := a.(type) {
	case *array.Int64:
		return arr.Int64Values(), nil
	case *array.Timestamp:
		v, _, err := TimestampValues(arr)
		return v, err
	}
	return nil, typeError(a, "int64 or timestamp")
}

// BoolBits returns the value bitmap of a boolean column and the bit offset of
// row 0 in it: row i is true when bit offset+i is set.
func BoolBits(a arrow.Array) (bits []byte, offset int, err error) {
	arr, ok := a.(*array.Boolean)
	if !ok {
		return nil, 0, typeError(a, "bool")
	}
	buf := arr.Data().Buffers()[1]
	if buf == nil {
		return nil, 0, nil
	}
	return buf.Bytes(), arr.Data().Offset(), nil
}

// TimeBounds returns the smallest and the largest valid value of an int64
// or timestamp column (TimeValues), with the reduce kernels; lo is
// math.MaxInt64 and hi math.MinInt64 when no value is valid.
func TimeBounds(a arrow.Array) (lo, hi int64, err error) {
	ev, err := TimeValues(a)
	if err != nil {
		return 0, 0, err
	}
	valid, off := Validity(a)
	ev = ev[:a.Len()]
	lo, _ = kernels.MinInt64(ev, valid, off, nil)
	hi, _ = kernels.MaxInt64(ev, valid, off, nil)
	return lo, hi, nil
}

// Validity returns the validity bitmap of a column and the bit offset of row
// 0 in it (row i is valid when bit offset+i is set). It returns nil bits when
// the column has no nulls, so callers can skip null checks entirely.
func Validity(a arrow.Array) (bits []byte, offset int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	buf := a.Data().Buffers()[0]
	if buf == nil {
		return nil, 0
	}
	return buf.Bytes(), a.Data().Offset()
}

// IsValid reports whether row i is valid given bits and offset as returned by
// Validity. Nil bits mean every row is valid.
func IsValid(bits []byte, offset, i int) bool {
	return bits == nil || bitutil.BitIsSet(bits, offset+i)
}

// StringData returns the offsets and data of a utf8 column: the value of row
// i is data[offsets[i]:offsets[i+1]]. offsets has Len()+1 entries and indexes
// the whole data buffer, so it honours the array offset without rebasing.
func StringData(a arrow.Array) (offsets []int32, data []byte, err error) {
	arr, ok := a.(*array.String)
	if !ok {
		return nil, nil, typeError(a, "utf8")
	}
	if buf := arr.Data().Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	offsets = arr.ValueOffsets()
	if len(offsets) == 0 {
		// An empty array may come without an offsets buffer.
		offsets = []int32{0}
	}
	return offsets, data, nil
}

func typeName(a arrow.Array) string {
	if a == nil {
		return "nil array"
	}
	return a.DataType().String()
}

func typeError(a arrow.Array, want string) error {
	return fmt.Errorf("%w: have %s, want %s", ErrType, typeName(a), want)
}

// ErrType is wrapped by every view error caused by a column of the wrong type.
var ErrType = errors.New("columnar: column type mismatch")

// Int64Column returns the values of the int64 column called name in rec.
// Errors name the column: an unknown name lists the available ones, a wrong
// type wraps ErrType.
func Int64Column(rec arrow.Record, name string) ([]int64, error) {
	a, err := Column(rec, name)
	if err != nil {
		return nil, err
	}
	v, err := Int64Values(a)
	return v, nameErr(name, err)
}

// Int32Column returns the values of the int32 column called name in rec.
func Int32Column(rec arrow.Record, name string) ([]int32, error) {
	a, err := Column(rec, name)
	if err != nil {
		return nil, err
	}
	v, err := Int32Values(a)
	return v, nameErr(name, err)
}

// Float64Column returns the values of the float64 column called name in rec.
func Float64Column(rec arrow.Record, name string) ([]float64, error) {
	a, err := Column(rec, name)
	if err != nil {
		return nil, err
	}
	v, err := Float64Values(a)
	return v, nameErr(name, err)
}

// Float32Column returns the values of the float32 column called name in rec.
func Float32Column(rec arrow.Record, name string) ([]float32, error) {
	a, err := Column(rec, name)
	if err != nil {
		return nil, err
	}
	v, err := Float32Values(a)
	return v, nameErr(name, err)
}

// TimestampColumn returns the values and unit of the timestamp column called
// name in rec.
func TimestampColumn(rec arrow.Record, name string) ([]int64, arrow.TimeUnit, error) {
	a, err := Column(rec, name)
	if err != nil {
		return nil, 0, err
	}
	v, unit, err := TimestampValues(a)
	return v, unit, nameErr(name, err)
}

// StringColumn returns the offsets and data of the utf8 column called name
// in rec (see StringData).
func StringColumn(rec arrow.Record, name string) ([]int32, []byte, error) {
	a, err := Column(rec, name)
	if err != nil {
		return nil, nil, err
	}
	off, data, err := StringData(a)
	return off, data, nameErr(name, err)
}

func nameErr(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("column %q: %w", name, err)
}

// FloorDiv is ⌊a ÷ b⌋ for b > 0 (Go's / truncates towards zero): the
// index of the length-b window holding event time a, negative times
// included.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
