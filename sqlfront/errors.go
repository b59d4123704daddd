package sqlfront

import "fmt"

// Pos is a position in the query text: 1-based line and column (columns count
// Unicode code points; a tab counts as one) and the 0-based byte offset.
type Pos struct {
	Line   int
	Col    int
	Offset int
}

// String formats the position as line:column.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is the error every stage of sqlfront returns for a problem in the query
// text: the lexer, the parser and the binder. Its message reads
// "line:column: what went wrong", e.g. "1:8: expected expression, found FROM".
type Error struct {
	Line int
	Col  int
	Msg  string
	// Err is an underlying cause (for example the catalog's error for an
	// unknown table); it may be nil.
	Err error
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

func errAt(p Pos, format string, args ...any) *Error {
	return &Error{Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

// wrapAt builds an *Error at p whose message is the formatted text and whose
// cause is err (so errors.Is/As see it).
func wrapAt(p Pos, err error, format string, args ...any) *Error {
	e := errAt(p, format, args...)
	e.Err = err
	return e
}
