package arrowio

// The JSON tokenizer behind the JSON Lines reader and schema inference.
//
// A scanner works on one line at a time (the chunk splitter guarantees that a
// line holds no '\n'). It never allocates on the success path: strings
// without escapes are returned as sub-slices of the line, escaped strings
// are unescaped into a scratch buffer reused from call to call, and errors
// are built only when something is wrong.

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	asmutf8 "github.com/segmentio/asm/utf8"
)

// scanner is a cursor over one line of JSON text.
type scanner struct {
	buf     []byte // the line, without its terminator
	pos     int    // offset of the next unread byte
	scratch []byte // unescape buffer, reused
}

// scanError is an error at a byte offset of the current line. The chunk
// decoder turns it into a *PosError with line and column.
type scanError struct {
	off   int    // byte offset in the line
	kind  error  // ErrSyntax or ErrSchema
	msg   string // short reason
	field string // field path, for schema errors
}

func (e *scanError) Error() string {
	if e.field != "" {
		return fmt.Sprintf("field %q: %s", e.field, e.msg)
	}
	return e.msg
}

func (s *scanner) reset(line []byte) {
	s.buf, s.pos = line, 0
}

func (s *scanner) syntaxErr(off int, msg string) error {
	return &scanError{off: off, kind: ErrSyntax, msg: msg}
}

func (s *scanner) schemaErr(off int, field, msg string) error {
	return &scanError{off: off, kind: ErrSchema, msg: msg, field: field}
}

// skipWS advances past JSON whitespace.
func (s *scanner) skipWS() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the byte at pos, or 0 at the end of the line.
func (s *scanner) peek() byte {
	if s.pos < len(s.buf) {
		return s.buf[s.pos]
	}
	return 0
}

// next consumes what follows an array element (close ']') or an object
// member (close '}'): whitespace, then a comma and the whitespace after it,
// or the closing byte. done reports that it consumed the closing byte;
// anything else is a syntax error at that byte.
func (s *scanner) next(close byte) (done bool, err error) {
	s.skipWS()
	switch s.peek() {
	case ',':
		s.pos++
		s.skipWS()
		return false, nil
	case close:
		s.pos++
		return true, nil
	}
	if close == ']' {
		return false, s.unexpected("after array element (expected ',' or ']')")
	}
	return false, s.unexpected("after object member (expected ',' or '}')")
}

// enter consumes the opening byte of an array or object and the
// whitespace after it. It reports whether the container is empty (the next
// byte is close), and then consumes close too.
func (s *scanner) enter(close byte) (empty bool) {
	s.pos++
	s.skipWS()
	if s.peek() == close {
		s.pos++
		return true
	}
	return false
}

// elements parses the array at s.pos (which must be '['), calling elem
// with s.pos at each element; elem must consume the element.
func (s *scanner) elements(elem func() error) error {
	if s.enter(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if done, err := s.next(']'); err != nil || done {
			return err
		}
	}
}

// members parses the object at s.pos (which must be '{'), calling member
// for each key with s.pos at the value; member must consume the value. The
// key aliases the line or the unescape buffer: it is valid until member
// next reads a string.
func (s *scanner) members(member func(key []byte) error) error {
	if s.enter('}') {
		return nil
	}
	for {
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if done, err := s.next('}'); err != nil || done {
			return err
		}
	}
}

// key consumes an object key, the ':' after it and the whitespace around
// that, leaving s.pos at the member's value.
func (s *scanner) key() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("looking for beginning of object key string")
	}
	// Keys rarely hold escapes: take them in place.
	var key []byte
	start := s.pos + 1
	if q := indexQuoteNoEscape(s.buf, start); q >= 0 {
		key = s.buf[start:q]
		s.pos = q + 1
	} else {
		k, err := s.str()
		if err != nil {
			return nil, err
		}
		key = k
	}
	s.skipWS()
	if s.peek() != ':' {
		return nil, s.unexpected("after object key (expected ':')")
	}
	s.pos++
	s.skipWS()
	return key, nil
}

// indexQuoteNoEscape returns the index of the '"' closing the string whose
// content starts at start, or -1 if the string has escapes or no end.
func indexQuoteNoEscape(b []byte, start int) int {
	for i := start; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i
		case '\\':
			return -1
		}
	}
	return -1
}

// line parses line, which must hold one JSON object and nothing after it
// but whitespace; object is called with s.pos at the object's '{' and must
// consume the object.
func (s *scanner) line(line []byte, object func() error) error {
	s.reset(line)
	if s.peek() != '{' {
		if s.skipValue() == nil {
			return s.syntaxErr(0, "line holds a JSON "+kindOf(line)+", not an object")
		}
		return s.unexpected("looking for beginning of object")
	}
	if err := object(); err != nil {
		return err
	}
	s.skipWS()
	if s.pos != len(s.buf) {
		return s.syntaxErr(s.pos, "unexpected data after the object")
	}
	return nil
}

// kindOf names the JSON kind of the value that begins line.
func kindOf(line []byte) string {
	var s scanner
	s.reset(line)
	return s.kindAt()
}

// unexpected builds the error for a byte that cannot start a value.
func (s *scanner) unexpected(what string) error {
	if s.pos >= len(s.buf) {
		return s.syntaxErr(s.pos, "unexpected end of line "+what)
	}
	return s.syntaxErr(s.pos, fmt.Sprintf("invalid character %s %s", quoteByte(s.buf[s.pos]), what))
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("0x%02x", c)
	}
	return strconv.QuoteRune(rune(c))
}

// literal consumes the literal word (true, false, null) at pos.
func (s *scanner) literal(word string) error {
	if len(s.buf)-s.pos >= len(word) && string(s.buf[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return nil
	}
	return s.syntaxErr(s.pos, "invalid literal (expected "+word+")")
}

// isNull consumes a null literal if one is at pos.
func (s *scanner) isNull() bool {
	if s.pos+4 <= len(s.buf) && s.buf[s.pos] == 'n' && s.buf[s.pos+1] == 'u' && s.buf[s.pos+2] == 'l' && s.buf[s.pos+3] == 'l' {
		s.pos += 4
		return true
	}
	return false
}

// str consumes the string at pos (which must be '"') and returns its
// unescaped bytes. The result aliases the line or the scratch buffer and is
// valid until the next call. Control characters other than '\n' are
// accepted raw; invalid UTF-8 is returned as is (callers that need UTF-8
// call fixUTF8).
func (s *scanner) str() ([]byte, error) {
	start := s.pos + 1
	rest := s.buf[start:]
	q := bytes.IndexByte(rest, '"')
	if q < 0 {
		return nil, s.syntaxErr(s.pos, "unterminated string")
	}
	seg := rest[:q]
	if bytes.IndexByte(seg, '\\') < 0 {
		s.pos = start + q + 1
		return seg, nil
	}
	return s.strSlow(start)
}

// strSlow unescapes the string whose content begins at start.
func (s *scanner) strSlow(start int) ([]byte, error) {
	out := s.scratch[:0]
	i := start
	q := -1 // position of the next '"' at or after i, if known
	for {
		// Find the next quote or backslash with two vectorised searches;
		// the quote position stays valid until i passes it.
		if q < i {
			q = bytes.IndexByte(s.buf[i:], '"')
			if q < 0 {
				q = len(s.buf)
			} else {
				q += i
			}
		}
		j := q
		if k := bytes.IndexByte(s.buf[i:q], '\\'); k >= 0 {
			j = i + k
		}
		out = append(out, s.buf[i:j]...)
		if j >= len(s.buf) {
			s.scratch = out
			return nil, s.syntaxErr(start-1, "unterminated string")
		}
		if s.buf[j] == '"' {
			s.pos = j + 1
			s.scratch = out
			return out, nil
		}
		// Backslash escape.
		if j+1 >= len(s.buf) {
			s.scratch = out
			return nil, s.syntaxErr(start-1, "unterminated string")
		}
		c := s.buf[j+1]
		i = j + 2
		switch c {
		case '"', '\\', '/':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s.buf, j+2)
			if !ok {
				s.scratch = out
				return nil, s.syntaxErr(j, `invalid \u escape in string`)
			}
			i = j + 6
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+6 <= len(s.buf) && s.buf[i] == '\\' && s.buf[i+1] == 'u' {
					r2, ok2 = hex4(s.buf, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			s.scratch = out
			return nil, s.syntaxErr(j, "invalid escape "+quoteByte(c)+" in string")
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// fixUTF8 returns b unchanged when it is valid UTF-8 and otherwise a copy
// (in dst) with each invalid byte replaced by U+FFFD, as encoding/json does.
func fixUTF8(b, dst []byte) []byte {
	// The vectorised check pays off from a few dozen bytes on.
	if len(b) >= 32 {
		if asmutf8.Valid(b) {
			return b
		}
	} else if utf8.Valid(b) {
		return b
	}
	dst = dst[:0]
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// number scans the number at pos and returns its text and whether it is an
// integer (no fraction, no exponent).
func (s *scanner) number() (text []byte, isInt bool, err error) {
	b, start := s.buf, s.pos
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return nil, false, s.syntaxErr(start, "invalid number")
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i++
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
	default:
		return nil, false, s.syntaxErr(start, "invalid number")
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == d {
			return nil, false, s.syntaxErr(i, "invalid number: no digits after decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == d {
			return nil, false, s.syntaxErr(i, "invalid number: no digits in exponent")
		}
	}
	s.pos = i
	return b[start:i], isInt, nil
}

// parseInt64 parses validated integer text. ok is false on overflow.
func parseInt64(t []byte) (int64, bool) {
	neg := false
	if t[0] == '-' {
		neg, t = true, t[1:]
	}
	if len(t) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range t {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// parseUint64 parses validated non-negative integer text.
func parseUint64(t []byte) (uint64, bool) {
	if t[0] == '-' {
		if len(t) == 2 && t[1] == '0' {
			return 0, true
		}
		return 0, false
	}
	if len(t) > 20 {
		return 0, false
	}
	if len(t) < 20 {
		var u uint64
		for _, c := range t {
			u = u*10 + uint64(c-'0')
		}
		return u, true
	}
	u, err := strconv.ParseUint(unsafeString(t), 10, 64)
	return u, err == nil
}

var pow10tab = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses validated number text. Short decimals take an exact
// fast path (mantissa below 2^53, power of ten at most 22); the rest go to
// strconv.
func parseFloat(t []byte) float64 {
	i, neg := 0, false
	if t[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, exp := 0, 0
	for ; i < len(t) && t[i]-'0' <= 9; i++ {
		mant = mant*10 + uint64(t[i]-'0')
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for ; i < len(t) && t[i]-'0' <= 9; i++ {
			mant = mant*10 + uint64(t[i]-'0')
			digits++
			exp--
		}
	}
	if i == len(t) && digits <= 15 && exp >= -22 {
		f := float64(mant)
		if exp < 0 {
			f /= pow10tab[-exp]
		}
		if neg {
			f = -f
		}
		return f
	}
	// Out of range: strconv returns ±Inf or 0 with an error; keep the value.
	f, _ := strconv.ParseFloat(unsafeString(t), 64)
	return f
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// skipValue consumes any JSON value at pos, checking its syntax.
func (s *scanner) skipValue() error {
	return s.skipDepth(0)
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 1000

func (s *scanner) skipDepth(depth int) error {
	if depth > maxDepth {
		return s.syntaxErr(s.pos, "nesting too deep")
	}
	switch c := s.peek(); c {
	case '"':
		_, err := s.str()
		return err
	case '{':
		return s.members(func([]byte) error { return s.skipDepth(depth + 1) })
	case '[':
		return s.elements(func() error { return s.skipDepth(depth + 1) })
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			_, _, err := s.number()
			return err
		}
		return s.unexpected("looking for beginning of value")
	}
}

// kindAt names the JSON kind of the value at pos, for error messages.
func (s *scanner) kindAt() string {
	switch c := s.peek(); {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return "invalid value"
}
