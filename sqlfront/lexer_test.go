package sqlfront

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTokenize(t *testing.T) {
	type tok struct {
		kind  TokenKind
		value string
		pos   string
	}
	cases := []struct {
		src  string
		want []tok
	}{
		{"SELECT Foo, \"Bar\"\"x\"", []tok{{TokKeyword, "SELECT", "1:1"}, {TokIdent, "foo", "1:8"}, {TokOp, ",", "1:11"}, {TokQuotedIdent, `Bar"x`, "1:13"}}},
		{"1 2.5 .5 1e9 2.5E-3 7.", []tok{{TokInt, "1", "1:1"}, {TokFloat, "2.5", "1:3"}, {TokFloat, ".5", "1:7"}, {TokFloat, "1e9", "1:10"}, {TokFloat, "2.5E-3", "1:14"}, {TokFloat, "7.", "1:21"}}},
		{"'it''s' ''", []tok{{TokString, "it's", "1:1"}, {TokString, "", "1:9"}}},
		{"1m 500ms 30S 2h 1d", []tok{{TokDuration, "1m", "1:1"}, {TokDuration, "500ms", "1:4"}, {TokDuration, "30s", "1:10"}, {TokDuration, "2h", "1:14"}, {TokDuration, "1d", "1:17"}}},
		{"+ - * / % = <> != < <= > >= || ( ) , . ; ::", []tok{{TokOp, "+", "1:1"}, {TokOp, "-", "1:3"}, {TokOp, "*", "1:5"}, {TokOp, "/", "1:7"},
			{TokOp, "%", "1:9"}, {TokOp, "=", "1:11"}, {TokOp, "<>", "1:13"}, {TokOp, "<>", "1:16"}, {TokOp, "<", "1:19"}, {TokOp, "<=", "1:21"},
			{TokOp, ">", "1:24"}, {TokOp, ">=", "1:26"}, {TokOp, "||", "1:29"}, {TokOp, "(", "1:32"}, {TokOp, ")", "1:34"}, {TokOp, ",", "1:36"},
			{TokOp, ".", "1:38"}, {TokOp, ";", "1:40"}, {TokOp, "::", "1:42"}}},
		{"a -- comment\n  /* multi\nline */ b", []tok{{TokIdent, "a", "1:1"}, {TokIdent, "b", "3:9"}}},
		{"été 'ü' x", []tok{{TokIdent, "été", "1:1"}, {TokString, "ü", "1:5"}, {TokIdent, "x", "1:9"}}},
		{"a-1", []tok{{TokIdent, "a", "1:1"}, {TokOp, "-", "1:2"}, {TokInt, "1", "1:3"}}},
		{"a//b/*c*/", []tok{{TokIdent, "a", "1:1"}, {TokOp, "//", "1:2"}, {TokIdent, "b", "1:4"}}},
		{"Tumbling rows", []tok{{TokIdent, "tumbling", "1:1"}, {TokIdent, "rows", "1:10"}}},
	}
	for _, c := range cases {
		toks, err := Tokenize(c.src)
		require.NoError(t, err, c.src)
		require.Equal(t, TokEOF, toks[len(toks)-1].Kind)
		var got []tok
		for _, tk := range toks[:len(toks)-1] {
			got = append(got, tok{tk.Kind, tk.Value, tk.Pos.String()})
		}
		require.Equal(t, c.want, got, c.src)
	}
}

func TestTokenizeErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"SELECT 'abc", "1:8: unterminated string"},
		{"a\n  \"x", "2:3: unterminated quoted identifier"},
		{"a /* x", "1:3: unterminated /* comment"},
		{"a @ b", "1:3: unexpected character '@'"},
		{"12abc", `1:1: malformed number "12abc" (a duration takes an integer and one of the units ms, s, m, h, d)`},
		{"1.5m", `1:1: malformed number "1.5m" (a duration takes an integer and one of the units ms, s, m, h, d)`},
		{`""`, "1:1: empty quoted identifier"},
		{"x \xff", "1:3: invalid UTF-8 byte 0xff"},
	}
	for _, c := range cases {
		_, err := Tokenize(c.src)
		require.EqualError(t, err, c.want, c.src)
		var e *Error
		require.True(t, errors.As(err, &e))
	}
}

func TestIsReserved(t *testing.T) {
	for _, w := range []string{"select", "From", "WINDOW", "emit", "with", "over"} {
		require.True(t, IsReserved(w), w)
	}
	for _, w := range []string{"tumbling", "rows", "interval", "first", "partition", "symbol"} {
		require.False(t, IsReserved(w), w)
	}
}
