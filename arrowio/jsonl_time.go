package arrowio

// Timestamps and dates in JSON Lines: ISO-8601 text, parsed by hand on the
// common layouts and by the time package otherwise.

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// timeCol decodes timestamp and date64 columns. A JSON number is taken as
// a count of the column's unit since the Unix epoch; a string must be
// ISO-8601 ("2024-05-01", "2024-05-01T12:30:00Z", "2024-05-01 12:30:00.5+02:00").
// A string without a zone is read as UTC.
type timeCol struct {
	fixedCol[int64]
	unit arrow.TimeUnit
	date bool // date64: milliseconds, from a date or a timestamp
}

func (c *timeCol) decode(s *scanner) error {
	start := s.pos
	switch ch := s.peek(); {
	case ch == '-' || ch-'0' <= 9:
		t, isInt, err := s.number()
		if err != nil {
			return err
		}
		v, ok := parseInt64(t)
		if !isInt || !ok {
			return s.schemaErr(start, c.path, fmt.Sprintf("number %s is not an integer %s", t, c.dt))
		}
		c.push(v)
		return nil
	case ch == '"':
		t, err := s.str()
		if err != nil {
			return err
		}
		sec, nsec, ok := parseISO8601(t)
		if !ok {
			return s.schemaErr(start, c.path, fmt.Sprintf("%q is not an ISO-8601 date or time", t))
		}
		var v int64
		switch c.unit {
		case arrow.Second:
			v = sec
		case arrow.Millisecond:
			v = sec*1e3 + nsec/1e6
		case arrow.Microsecond:
			v = sec*1e6 + nsec/1e3
		default:
			v = sec*1e9 + nsec
		}
		c.push(v)
		return nil
	}
	if s.isNull() {
		c.appendNull()
		return nil
	}
	return convErr(s, c.path, c.dt)
}

// date32Col decodes dates as days since the epoch, from a number of days or
// an ISO-8601 string (a time part, if any, is dropped).
type date32Col struct{ fixedCol[int32] }

func (c *date32Col) decode(s *scanner) error {
	start := s.pos
	switch ch := s.peek(); {
	case ch == '-' || ch-'0' <= 9:
		t, isInt, err := s.number()
		if err != nil {
			return err
		}
		v, ok := parseInt64(t)
		if !isInt || !ok || v != int64(int32(v)) {
			return s.schemaErr(start, c.path, fmt.Sprintf("number %s is not a day count for date32", t))
		}
		c.push(int32(v))
		return nil
	case ch == '"':
		t, err := s.str()
		if err != nil {
			return err
		}
		sec, _, ok := parseISO8601(t)
		if !ok {
			return s.schemaErr(start, c.path, fmt.Sprintf("%q is not an ISO-8601 date", t))
		}
		d := sec / 86400
		if sec%86400 < 0 {
			d--
		}
		c.push(int32(d))
		return nil
	}
	if s.isNull() {
		c.appendNull()
		return nil
	}
	return convErr(s, c.path, c.dt)
}

// parseISO8601 parses YYYY-MM-DD[(T|t| )HH:MM[:SS[.fraction]]][Z|±HH[:MM]]
// into seconds and nanoseconds since the Unix epoch. Other RFC 3339 forms
// fall back to the time package.
func parseISO8601(b []byte) (sec, nsec int64, ok bool) {
	num := func(i, n int) (int64, bool) {
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
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
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
	hh, ok1 := num(i+1, 2)
	mm, ok2 := num(i+4, 2)
	if !ok1 || !ok2 || b[i+3] != ':' || hh > 23 || mm > 59 {
		return isoFallback(b)
	}
	sec += hh*3600 + mm*60
	i += 6
	if i < len(b) && b[i] == ':' {
		ss, ok := num(i+1, 2)
		if !ok || ss > 60 {
			return isoFallback(b)
		}
		sec += ss
		i += 3
		if i < len(b) && (b[i] == '.' || b[i] == ',') {
			i++
			scale, digits := int64(1e8), 0
			for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
				nsec += int64(b[i]-'0') * scale
				scale /= 10
				digits++
			}
			if digits == 0 {
				return isoFallback(b)
			}
		}
	}
	if i == len(b) {
		return sec, nsec, true
	}
	switch b[i] {
	case 'Z', 'z':
		if i+1 == len(b) {
			return sec, nsec, true
		}
	case '+', '-':
		oh, ok1 := num(i+1, 2)
		j := i + 3
		var om int64
		var ok2 = true
		if j < len(b) && b[j] == ':' {
			j++
		}
		if j < len(b) {
			om, ok2 = num(j, 2)
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

// timeOfDayCol decodes time32 and time64 columns from a number of the
// column's unit since midnight or a "HH:MM[:SS[.fraction]]" string.
type timeOfDayCol[T int32 | int64] struct {
	fixedCol[T]
	unit arrow.TimeUnit
}

func (c *timeOfDayCol[T]) decode(s *scanner) error {
	start := s.pos
	switch ch := s.peek(); {
	case ch == '-' || ch-'0' <= 9:
		t, isInt, err := s.number()
		if err != nil {
			return err
		}
		v, ok := parseInt64(t)
		if !isInt || !ok || int64(T(v)) != v {
			return s.schemaErr(start, c.path, fmt.Sprintf("number %s does not fit %s", t, c.dt))
		}
		c.push(T(v))
		return nil
	case ch == '"':
		t, err := s.str()
		if err != nil {
			return err
		}
		ns, ok := parseTimeOfDay(t)
		if !ok {
			return s.schemaErr(start, c.path, fmt.Sprintf("%q is not a time of day", t))
		}
		switch c.unit {
		case arrow.Second:
			ns /= 1e9
		case arrow.Millisecond:
			ns /= 1e6
		case arrow.Microsecond:
			ns /= 1e3
		}
		c.push(T(ns))
		return nil
	}
	if s.isNull() {
		c.appendNull()
		return nil
	}
	return convErr(s, c.path, c.dt)
}

// parseTimeOfDay parses HH:MM[:SS[.fraction]] into nanoseconds since midnight.
func parseTimeOfDay(b []byte) (int64, bool) {
	two := func(i int) (int64, bool) {
		if i+2 > len(b) || b[i] < '0' || b[i] > '9' || b[i+1] < '0' || b[i+1] > '9' {
			return 0, false
		}
		return int64(b[i]-'0')*10 + int64(b[i+1]-'0'), true
	}
	hh, ok1 := two(0)
	mm, ok2 := two(3)
	if !ok1 || !ok2 || b[2] != ':' || hh > 23 || mm > 59 {
		return 0, false
	}
	ns := (hh*3600 + mm*60) * 1e9
	i := 5
	if i < len(b) && b[i] == ':' {
		ss, ok := two(i + 1)
		if !ok || ss > 60 {
			return 0, false
		}
		ns += ss * 1e9
		i += 3
		if i < len(b) && b[i] == '.' {
			i++
			scale, digits := int64(1e8), 0
			for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
				ns += int64(b[i]-'0') * scale
				scale /= 10
				digits++
			}
			if digits == 0 {
				return 0, false
			}
		}
	}
	return ns, i == len(b)
}
