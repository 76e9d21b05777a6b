package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/arrowio"
)

// loadSchemaFile reads the schema named by --schema. A .json file holds the
// fields as `dsctl schema --json` prints them ([{"name", "type",
// "nullable"}], types written as Arrow prints them: int64, utf8,
// list<item: utf8, nullable>, struct<a: int64, b: utf8 nullable>,
// timestamp[us, tz=UTC], fixed_size_list<item: float32, nullable>[16], ...).
// Any other file is opened as data and its schema is used.
func loadSchemaFile(fsys afero.Fs, path string) (*arrow.Schema, error) {
	if !strings.HasSuffix(strings.ToLower(path), ".json") {
		r, err := arrowio.Open(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("--schema: %w", err)
		}
		defer r.Close()
		return r.Schema(), nil
	}
	data, err := afero.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("--schema: %w", err)
	}
	var fields []fieldJSON
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("--schema %s: %w: want a JSON array of {\"name\", \"type\", \"nullable\"} as dsctl schema --json prints", path, err)
	}
	out := make([]arrow.Field, len(fields))
	for i, f := range fields {
		t, err := ParseType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("--schema %s: field %q: %w", path, f.Name, err)
		}
		out[i] = arrow.Field{Name: f.Name, Type: t, Nullable: f.Nullable}
	}
	return arrow.NewSchema(out, nil), nil
}

// ParseType parses an Arrow type written as arrow-go prints it (the inverse
// of DataType.String for the types Quiver reads and writes), plus the
// aliases string, large_string, int, float, double and boolean.
func ParseType(s string) (arrow.DataType, error) {
	p := &typeParser{s: s}
	t := p.parseType()
	if p.err == nil && p.pos != len(p.s) {
		p.fail("unexpected %q", p.s[p.pos:])
	}
	if p.err != nil {
		return nil, fmt.Errorf("type %q: %w", s, p.err)
	}
	return t, nil
}

// typeParser reads a type string left to right. Its first error sticks:
// every later step does nothing and returns zero values, so a parse is a
// plain sequence of steps with one check at the end (ParseType).
type typeParser struct {
	s   string
	pos int
	err error
}

// fail records an error at the current offset, unless one is recorded.
func (p *typeParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("at offset %d: "+format, append([]any{p.pos}, args...)...)
	}
}

func (p *typeParser) eat(tok string) bool {
	if p.err == nil && strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *typeParser) expect(tok string) {
	if p.err == nil && !p.eat(tok) {
		p.fail("want %q", tok)
	}
}

// word reads a type name: letters, digits and underscores.
func (p *typeParser) word() string {
	start := p.pos
	for p.err == nil && p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

// until reads up to (not including) the first of the stop strings.
func (p *typeParser) until(stops ...string) string {
	if p.err != nil {
		return ""
	}
	best := len(p.s)
	for _, st := range stops {
		if i := strings.Index(p.s[p.pos:], st); i >= 0 && p.pos+i < best {
			best = p.pos + i
		}
	}
	out := p.s[p.pos:best]
	p.pos = best
	return out
}

// number reads a decimal integer that fits an int32, at least least.
func (p *typeParser) number(least int) int {
	if p.err != nil {
		return 0
	}
	at := p.pos
	n, err := strconv.ParseInt(p.until(",", ")", "]"), 10, 32)
	switch {
	case err != nil:
		p.pos = at
		p.fail("want a number")
	case int(n) < least:
		p.pos = at
		p.fail("want a number of at least %d, not %d", least, n)
	}
	return int(n)
}

var simpleTypes = map[string]arrow.DataType{
	"null": arrow.Null, "bool": arrow.FixedWidthTypes.Boolean, "boolean": arrow.FixedWidthTypes.Boolean,
	"int8": arrow.PrimitiveTypes.Int8, "int16": arrow.PrimitiveTypes.Int16, "int32": arrow.PrimitiveTypes.Int32, "int64": arrow.PrimitiveTypes.Int64, "int": arrow.PrimitiveTypes.Int64,
	"uint8": arrow.PrimitiveTypes.Uint8, "uint16": arrow.PrimitiveTypes.Uint16, "uint32": arrow.PrimitiveTypes.Uint32, "uint64": arrow.PrimitiveTypes.Uint64,
	"float16": arrow.FixedWidthTypes.Float16, "float32": arrow.PrimitiveTypes.Float32, "float64": arrow.PrimitiveTypes.Float64, "float": arrow.PrimitiveTypes.Float64, "double": arrow.PrimitiveTypes.Float64,
	"utf8": arrow.BinaryTypes.String, "string": arrow.BinaryTypes.String, "large_utf8": arrow.BinaryTypes.LargeString, "large_string": arrow.BinaryTypes.LargeString,
	"binary": arrow.BinaryTypes.Binary, "large_binary": arrow.BinaryTypes.LargeBinary,
	"date32": arrow.FixedWidthTypes.Date32, "date64": arrow.FixedWidthTypes.Date64,
}

var timeUnits = map[string]arrow.TimeUnit{"s": arrow.Second, "ms": arrow.Millisecond, "us": arrow.Microsecond, "ns": arrow.Nanosecond}

// bracketedUnit reads "[UNIT" (timestamp adds its time zone before "]").
func (p *typeParser) bracketedUnit() arrow.TimeUnit {
	p.expect("[")
	if p.err != nil {
		return 0
	}
	u, ok := timeUnits[p.word()]
	if !ok {
		p.fail("want a time unit s, ms, us or ns")
	}
	return u
}

// parseType reads one type; it returns nil once an error is recorded.
// Each kind reads its parts, and the type is built from them (build) only
// if they all parsed: arrow-go panics on a nil item type or a zero size.
func (p *typeParser) parseType() arrow.DataType {
	if p.err != nil {
		return nil
	}
	name := p.word()
	if t, ok := simpleTypes[name]; ok {
		return t
	}
	var build func() arrow.DataType
	switch name {
	case "list", "large_list", "fixed_size_list":
		p.expect("<")
		f := p.listField()
		p.expect(">")
		switch name {
		case "list":
			build = func() arrow.DataType { return arrow.ListOfField(f) }
		case "large_list":
			build = func() arrow.DataType { return arrow.LargeListOfField(f) }
		default:
			p.expect("[")
			n := p.number(1)
			p.expect("]")
			build = func() arrow.DataType { return arrow.FixedSizeListOfField(int32(n), f) }
		}
	case "struct":
		p.expect("<")
		var fields []arrow.Field
		for p.err == nil && !p.eat(">") {
			if len(fields) > 0 {
				p.expect(", ")
			}
			fname := p.until(": ")
			p.expect(": ")
			ft := p.parseType()
			fields = append(fields, arrow.Field{Name: fname, Type: ft, Nullable: p.eat(" nullable")})
			if p.err == nil && p.pos >= len(p.s) {
				p.fail("unterminated struct")
			}
		}
		build = func() arrow.DataType { return arrow.StructOf(fields...) }
	case "map":
		p.expect("<")
		k := p.parseType()
		p.expect(", ")
		v := p.parseType()
		itemsNullable := p.eat(", items_nullable")
		p.expect(">")
		build = func() arrow.DataType {
			m := arrow.MapOf(k, v)
			m.SetItemNullable(itemsNullable)
			return m
		}
	case "timestamp":
		u := p.bracketedUnit()
		tz := ""
		if p.eat(", tz=") {
			tz = p.until("]")
		}
		p.expect("]")
		build = func() arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: tz} }
	case "duration", "time32", "time64":
		u := p.bracketedUnit()
		p.expect("]")
		build = func() arrow.DataType {
			switch name {
			case "duration":
				return &arrow.DurationType{Unit: u}
			case "time32":
				return &arrow.Time32Type{Unit: u}
			}
			return &arrow.Time64Type{Unit: u}
		}
	case "fixed_size_binary":
		p.expect("[")
		n := p.number(0)
		p.expect("]")
		build = func() arrow.DataType { return &arrow.FixedSizeBinaryType{ByteWidth: n} }
	case "decimal", "decimal128", "decimal256":
		p.expect("(")
		prec := p.number(1)
		p.expect(", ")
		scale := p.number(math.MinInt32)
		p.expect(")")
		id := arrow.DECIMAL128
		if name == "decimal256" {
			id = arrow.DECIMAL256
		}
		var dt arrow.DecimalType
		if p.err == nil {
			var err error
			if dt, err = arrow.NewDecimalType(id, int32(prec), int32(scale)); err != nil {
				p.fail("%v", err)
			}
		}
		build = func() arrow.DataType { return dt }
	case "":
		p.fail("want a type name")
	default:
		p.err = errors.New("unknown type " + strconv.Quote(name))
	}
	if p.err != nil {
		return nil
	}
	return build()
}

// listField parses "NAME: TYPE[, nullable]" inside list<...>.
func (p *typeParser) listField() arrow.Field {
	name := p.until(": ")
	p.expect(": ")
	t := p.parseType()
	return arrow.Field{Name: name, Type: t, Nullable: p.eat(", nullable")}
}
