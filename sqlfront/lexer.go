package sqlfront

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TokenKind classifies a token.
type TokenKind int

// Token kinds.
const (
	// TokEOF ends every token stream.
	TokEOF TokenKind = iota
	// TokIdent is an unquoted identifier that is not a reserved keyword; its
	// Value is folded to lower case (identifiers are case-insensitive).
	TokIdent
	// TokQuotedIdent is a "double-quoted" identifier; its Value keeps its case,
	// with "" unescaped to ".
	TokQuotedIdent
	// TokKeyword is a reserved keyword; its Value is upper case.
	TokKeyword
	// TokInt is an integer literal (digits only).
	TokInt
	// TokFloat is a decimal or exponent literal: 1.5, .5, 1e9, 2.5E-3.
	TokFloat
	// TokString is a 'single-quoted' string; its Value has '' unescaped to '.
	TokString
	// TokDuration is a number immediately followed by a time unit (ms, s, m,
	// h, d), Velostream style: 500ms, 30s, 1m, 2h, 1d. Value is the lower-cased
	// text.
	TokDuration
	// TokOp is an operator or punctuation: + - * / // % = <> != < <= > >= || ( ) , . ; ::
	TokOp
)

var tokenKindNames = [...]string{"end of input", "identifier", "quoted identifier", "keyword",
	"integer", "number", "string", "duration", "operator"}

// String names the kind for error messages.
func (k TokenKind) String() string {
	if int(k) < len(tokenKindNames) {
		return tokenKindNames[k]
	}
	return fmt.Sprintf("TokenKind(%d)", int(k))
}

// Token is one lexical token with its position.
type Token struct {
	Kind TokenKind
	// Text is the token's exact source text.
	Text string
	// Value is the token's meaning: folded identifier, upper-case keyword,
	// unescaped string, operator text (with != normalised to <>).
	Value string
	Pos   Pos
}

// describe renders the token for "expected X, found Y" messages.
func (t Token) describe() string {
	switch t.Kind {
	case TokEOF:
		return "end of input"
	case TokKeyword:
		return t.Value
	case TokString:
		return "string " + quoteString(t.Value)
	case TokOp:
		return "'" + t.Text + "'"
	default:
		return t.Kind.String() + " " + t.Text
	}
}

// reserved are the keywords that cannot be used as bare identifiers or
// aliases. Every other word (TUMBLING, ROWS, INTERVAL, FIRST, ...) is a
// contextual keyword recognised by the parser only where it is expected, so
// it stays usable as a column name.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "GROUP": true, "BY": true, "HAVING": true,
	"ORDER": true, "LIMIT": true, "OFFSET": true, "AS": true, "AND": true, "OR": true,
	"NOT": true, "IN": true, "BETWEEN": true, "LIKE": true, "IS": true, "NULL": true,
	"TRUE": true, "FALSE": true, "CASE": true, "WHEN": true, "THEN": true, "ELSE": true,
	"END": true, "CAST": true, "DISTINCT": true, "WINDOW": true, "EMIT": true, "WITH": true,
	"OVER": true, "EXPLAIN": true, "ASC": true, "DESC": true, "ALL": true,
}

// IsReserved reports whether word (any case) is a reserved keyword.
func IsReserved(word string) bool { return reserved[strings.ToUpper(word)] }

// durationUnits are the suffixes that turn a number into a TokDuration.
var durationUnits = map[string]int64{"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

type lexer struct {
	src  string
	off  int
	line int
	col  int
	toks []Token
}

// Tokenize splits src into tokens, ending with a TokEOF token. Comments
// (-- to end of line, /* ... */) and white space separate tokens and are
// dropped. The error, if any, is an *Error with the position of the bad
// character.
func Tokenize(src string) ([]Token, error) {
	lx := &lexer{src: src, line: 1, col: 1}
	for {
		if err := lx.skipSpace(); err != nil {
			return nil, err
		}
		if lx.off >= len(lx.src) {
			lx.toks = append(lx.toks, Token{Kind: TokEOF, Pos: lx.pos()})
			return lx.toks, nil
		}
		if err := lx.next(); err != nil {
			return nil, err
		}
	}
}

func (lx *lexer) pos() Pos { return Pos{Line: lx.line, Col: lx.col, Offset: lx.off} }

func (lx *lexer) peekByte(k int) byte {
	if lx.off+k < len(lx.src) {
		return lx.src[lx.off+k]
	}
	return 0
}

// advance moves past n bytes, keeping line and column up to date.
func (lx *lexer) advance(n int) {
	end := lx.off + n
	for lx.off < end {
		r, w := utf8.DecodeRuneInString(lx.src[lx.off:])
		lx.off += w
		if r == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
	}
}

func (lx *lexer) skipSpace() error {
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.advance(1)
		case c == '-' && lx.peekByte(1) == '-':
			n := strings.IndexByte(lx.src[lx.off:], '\n')
			if n < 0 {
				n = len(lx.src) - lx.off
			}
			lx.advance(n)
		case c == '/' && lx.peekByte(1) == '*':
			start := lx.pos()
			n := strings.Index(lx.src[lx.off+2:], "*/")
			if n < 0 {
				return errAt(start, "unterminated /* comment")
			}
			lx.advance(n + 4)
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (lx *lexer) emit(kind TokenKind, start Pos, value string) {
	lx.toks = append(lx.toks, Token{Kind: kind, Text: lx.src[start.Offset:lx.off], Value: value, Pos: start})
}

func (lx *lexer) next() error {
	start := lx.pos()
	c := lx.src[lx.off]
	switch {
	case isDigit(c) || (c == '.' && isDigit(lx.peekByte(1))):
		return lx.number(start)
	case c == '\'':
		s, err := lx.quoted('\'', start, "string")
		if err != nil {
			return err
		}
		lx.emit(TokString, start, s)
		return nil
	case c == '"':
		s, err := lx.quoted('"', start, "quoted identifier")
		if err != nil {
			return err
		}
		if s == "" {
			return errAt(start, "empty quoted identifier")
		}
		lx.emit(TokQuotedIdent, start, s)
		return nil
	}
	r, w := utf8.DecodeRuneInString(lx.src[lx.off:])
	if isIdentStart(r) {
		end := lx.off + w
		for end < len(lx.src) {
			r2, w2 := utf8.DecodeRuneInString(lx.src[end:])
			if !isIdentPart(r2) {
				break
			}
			end += w2
		}
		lx.advance(end - lx.off)
		word := lx.src[start.Offset:lx.off]
		if up := strings.ToUpper(word); reserved[up] {
			lx.emit(TokKeyword, start, up)
		} else {
			lx.emit(TokIdent, start, strings.ToLower(word))
		}
		return nil
	}
	two := ""
	if lx.off+1 < len(lx.src) {
		two = lx.src[lx.off : lx.off+2]
	}
	switch two {
	case "<>", "<=", ">=", "||", "::", "//":
		lx.advance(2)
		lx.emit(TokOp, start, two)
		return nil
	case "!=":
		lx.advance(2)
		lx.emit(TokOp, start, "<>")
		return nil
	}
	switch c {
	case '+', '-', '*', '/', '%', '=', '<', '>', '(', ')', ',', '.', ';':
		lx.advance(1)
		lx.emit(TokOp, start, string(c))
		return nil
	}
	if r == utf8.RuneError && w == 1 {
		return errAt(start, "invalid UTF-8 byte 0x%02x", c)
	}
	return errAt(start, "unexpected character %q", r)
}

// number lexes an integer, decimal, exponent or duration literal.
func (lx *lexer) number(start Pos) error {
	end := lx.off
	src := lx.src
	for end < len(src) && isDigit(src[end]) {
		end++
	}
	kind := TokInt
	if end < len(src) && src[end] == '.' {
		kind = TokFloat
		end++
		for end < len(src) && isDigit(src[end]) {
			end++
		}
	}
	if end < len(src) && (src[end] == 'e' || src[end] == 'E') {
		e := end + 1
		if e < len(src) && (src[e] == '+' || src[e] == '-') {
			e++
		}
		if e < len(src) && isDigit(src[e]) {
			kind = TokFloat
			for e < len(src) && isDigit(src[e]) {
				e++
			}
			end = e
		}
	}
	// A letter right after the number: a duration unit or a malformed number.
	suffixEnd := end
	for suffixEnd < len(src) {
		r, w := utf8.DecodeRuneInString(src[suffixEnd:])
		if !isIdentPart(r) {
			break
		}
		suffixEnd += w
	}
	if suffixEnd > end {
		unit := strings.ToLower(src[end:suffixEnd])
		if _, ok := durationUnits[unit]; ok && kind == TokInt {
			lx.advance(suffixEnd - lx.off)
			lx.emit(TokDuration, start, strings.ToLower(lx.src[start.Offset:lx.off]))
			return nil
		}
		return errAt(start, "malformed number %q (a duration takes an integer and one of the units ms, s, m, h, d)", src[start.Offset:suffixEnd])
	}
	lx.advance(end - lx.off)
	lx.emit(kind, start, lx.src[start.Offset:lx.off])
	return nil
}

// quoted lexes a q-delimited literal where qq stands for one q.
func (lx *lexer) quoted(q byte, start Pos, what string) (string, error) {
	var b strings.Builder
	i := lx.off + 1
	for {
		j := strings.IndexByte(lx.src[i:], q)
		if j < 0 {
			return "", errAt(start, "unterminated %s", what)
		}
		b.WriteString(lx.src[i : i+j])
		i += j + 1
		if i < len(lx.src) && lx.src[i] == q {
			b.WriteByte(q)
			i++
			continue
		}
		break
	}
	lx.advance(i - lx.off)
	return b.String(), nil
}

// quoteString renders s as a SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent renders s as a double-quoted identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
