package arrowio

// Timestamps and dates in JSON Lines: ISO-8601 text, parsed by hand on the
// common layouts and by the time package otherwise.

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// temporalCol decodes the columns of times and dates: timestamp, date32,
// date64, time32 and time64. A JSON number is taken as a count of the
// column's unit (days for date32) since the Unix epoch, or since midnight
// for times of day; a JSON string is read by text. The kinds differ only
// in text and in the messages for values that do not fit.
type temporalCol[T int32 | int64] struct {
	fixedCol[T]
	// text parses the content of a JSON string.
	text func([]byte) (T, bool)
	// numberMsg is the message for a number that is not an integer fitting
	// T, formatted with the number and the column type.
	numberMsg string
	// textMsg is the message for a string text rejects, formatted with the
	// string (%q).
	textMsg string
}

// newTimestampCol decodes timestamp (and, in milliseconds, date64) columns
// from a count of unit or an ISO-8601 string ("2024-05-01",
// "2024-05-01T12:30:00Z", "2024-05-01 12:30:00.5+02:00"). A string without
// a zone is read as UTC.
func newTimestampCol(dt arrow.DataType, path string, unit arrow.TimeUnit) *temporalCol[int64] {
	per := unit.Multiplier().Nanoseconds()
	perSec := int64(time.Second) / per
	return &temporalCol[int64]{
		fixedCol: fixedCol[int64]{dt: dt, path: path},
		text: func(b []byte) (int64, bool) {
			sec, nsec, ok := parseISO8601(b)
			return sec*perSec + nsec/per, ok
		},
		numberMsg: "number %s is not an integer %s",
		textMsg:   "%q is not an ISO-8601 date or time",
	}
}

// newDate32Col decodes dates as days since the epoch, from a number of days
// or an ISO-8601 string (a time part, if any, is dropped).
func newDate32Col(dt arrow.DataType, path string) *temporalCol[int32] {
	return &temporalCol[int32]{
		fixedCol: fixedCol[int32]{dt: dt, path: path},
		text: func(b []byte) (int32, bool) {
			sec, _, ok := parseISO8601(b)
			d := sec / 86400
			if sec%86400 < 0 {
				d--
			}
			return int32(d), ok
		},
		numberMsg: "number %s is not a day count for %s",
		textMsg:   "%q is not an ISO-8601 date",
	}
}

// newTimeOfDayCol decodes time32 and time64 columns from a number of the
// column's unit since midnight or a "HH:MM[:SS[.fraction]]" string.
func newTimeOfDayCol[T int32 | int64](dt arrow.DataType, path string, unit arrow.TimeUnit) *temporalCol[T] {
	per := unit.Multiplier().Nanoseconds()
	return &temporalCol[T]{
		fixedCol: fixedCol[T]{dt: dt, path: path},
		text: func(b []byte) (T, bool) {
			ns, ok := parseTimeOfDay(b)
			return T(ns / per), ok
		},
		numberMsg: "number %s does not fit %s",
		textMsg:   "%q is not a time of day",
	}
}

func (c *temporalCol[T]) decode(s *scanner) error {
	start := s.pos
	switch ch := s.peek(); {
	case ch == '-' || ch-'0' <= 9:
		t, isInt, err := s.number()
		if err != nil {
			return err
		}
		v, ok := parseInt64(t)
		if !isInt || !ok || int64(T(v)) != v {
			return s.schemaErr(start, c.path, fmt.Sprintf(c.numberMsg, t, c.dt))
		}
		c.push(T(v))
		return nil
	case ch == '"':
		t, err := s.str()
		if err != nil {
			return err
		}
		v, ok := c.text(t)
		if !ok {
			return s.schemaErr(start, c.path, fmt.Sprintf(c.textMsg, t))
		}
		c.push(v)
		return nil
	}
	return convErr(s, c.path, c.dt)
}

// parseISO8601 parses YYYY-MM-DD[(T|t| )HH:MM[:SS[.fraction]]][Z|±HH[:MM]]
// into seconds and nanoseconds since the Unix epoch. Other RFC 3339 forms
// fall back to the time package.
func parseISO8601(b []byte) (sec, nsec int64, ok bool) {
	y, ok1 := parseDigits(b, 0, 4)
	mo, ok2 := parseDigits(b, 5, 2)
	d, ok3 := parseDigits(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[4] != '-' || b[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > int64(daysIn(int(mo), int(y))) {
		return isoFallback(b)
	}
	sec = daysFromCivil(y, mo, d) * 86400
	i := 10
	if i == len(b) {
		return sec, 0, true
	}
	if b[i] != 'T' && b[i] != 't' && b[i] != ' ' {
		return isoFallback(b)
	}
	clock, nsec, end, ok := parseClock(b, i+1, true)
	if !ok {
		return isoFallback(b)
	}
	sec += clock
	i = end
	if i == len(b) {
		return sec, nsec, true
	}
	switch b[i] {
	case 'Z', 'z':
		if i+1 == len(b) {
			return sec, nsec, true
		}
	case '+', '-':
		oh, ok1 := parseDigits(b, i+1, 2)
		j := i + 3
		var om int64
		var ok2 = true
		if j < len(b) && b[j] == ':' {
			j++
		}
		if j < len(b) {
			om, ok2 = parseDigits(b, j, 2)
			j += 2
		}
		if ok1 && ok2 && j == len(b) && oh <= 23 && om <= 59 {
			off := oh*3600 + om*60
			if b[i] == '+' {
				off = -off
			}
			return sec + off, nsec, true
		}
	}
	return isoFallback(b)
}

func isoFallback(b []byte) (int64, int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, 0, false
	}
	return t.Unix(), int64(t.Nanosecond()), true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian date.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// parseTimeOfDay parses HH:MM[:SS[.fraction]] into nanoseconds since midnight.
func parseTimeOfDay(b []byte) (int64, bool) {
	sec, nsec, end, ok := parseClock(b, 0, false)
	return sec*1e9 + nsec, ok && end == len(b)
}

// parseClock parses HH:MM[:SS[.fraction]] at b[i:] into seconds and
// nanoseconds since midnight and returns the index after it. A leap second
// (SS = 60) is accepted; comma also accepts ',' before the fraction, as
// ISO 8601 does.
func parseClock(b []byte, i int, comma bool) (sec, nsec int64, end int, ok bool) {
	hh, ok1 := parseDigits(b, i, 2)
	mm, ok2 := parseDigits(b, i+3, 2)
	if !ok1 || !ok2 || b[i+2] != ':' || hh > 23 || mm > 59 {
		return 0, 0, 0, false
	}
	sec = hh*3600 + mm*60
	i += 5
	if i < len(b) && b[i] == ':' {
		ss, ok := parseDigits(b, i+1, 2)
		if !ok || ss > 60 {
			return 0, 0, 0, false
		}
		sec += ss
		i += 3
		if i < len(b) && (b[i] == '.' || comma && b[i] == ',') {
			i++
			scale, digits := int64(1e8), 0
			for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
				nsec += int64(b[i]-'0') * scale
				scale /= 10
				digits++
			}
			if digits == 0 {
				return 0, 0, 0, false
			}
		}
	}
	return sec, nsec, i, true
}

// parseDigits parses the n decimal digits at b[i:].
func parseDigits(b []byte, i, n int) (int64, bool) {
	if i+n > len(b) {
		return 0, false
	}
	var v int64
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
