package cli

import (
	"encoding/json"
	"errors"
	"fmt"
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
	t, err := p.parseType()
	if err == nil && p.pos != len(p.s) {
		err = p.errorf("unexpected %q", p.s[p.pos:])
	}
	if err != nil {
		return nil, fmt.Errorf("type %q: %w", s, err)
	}
	return t, nil
}

type typeParser struct {
	s   string
	pos int
}

func (p *typeParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: "+format, append([]any{p.pos}, args...)...)
}

func (p *typeParser) eat(tok string) bool {
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *typeParser) expect(tok string) error {
	if !p.eat(tok) {
		return p.errorf("want %q", tok)
	}
	return nil
}

// word reads a type name: letters, digits and underscores.
func (p *typeParser) word() string {
	start := p.pos
	for p.pos < len(p.s) {
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

func (p *typeParser) number() (int, error) {
	n, err := strconv.Atoi(p.until(",", ")", "]"))
	if err != nil {
		return 0, p.errorf("want a number")
	}
	return n, nil
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

func (p *typeParser) unit() (arrow.TimeUnit, error) {
	u, ok := timeUnits[p.word()]
	if !ok {
		return 0, p.errorf("want a time unit s, ms, us or ns")
	}
	return u, nil
}

func (p *typeParser) parseType() (arrow.DataType, error) {
	name := p.word()
	if t, ok := simpleTypes[name]; ok {
		return t, nil
	}
	switch name {
	case "list", "large_list", "fixed_size_list":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		f, err := p.listField()
		if err != nil {
			return nil, err
		}
		if err := p.expect(">"); err != nil {
			return nil, err
		}
		switch name {
		case "list":
			return arrow.ListOfField(f), nil
		case "large_list":
			return arrow.LargeListOfField(f), nil
		}
		if err := p.expect("["); err != nil {
			return nil, err
		}
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		return arrow.FixedSizeListOfField(int32(n), f), nil
	case "struct":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		var fields []arrow.Field
		for !p.eat(">") {
			if len(fields) > 0 {
				if err := p.expect(", "); err != nil {
					return nil, err
				}
			}
			fname := p.until(": ")
			if err := p.expect(": "); err != nil {
				return nil, err
			}
			t, err := p.parseType()
			if err != nil {
				return nil, err
			}
			fields = append(fields, arrow.Field{Name: fname, Type: t, Nullable: p.eat(" nullable")})
			if p.pos >= len(p.s) {
				return nil, p.errorf("unterminated struct")
			}
		}
		return arrow.StructOf(fields...), nil
	case "map":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		k, err := p.parseType()
		if err != nil {
			return nil, err
		}
		if err := p.expect(", "); err != nil {
			return nil, err
		}
		v, err := p.parseType()
		if err != nil {
			return nil, err
		}
		m := arrow.MapOf(k, v)
		if p.eat(", items_nullable") {
			m.SetItemNullable(true)
		} else {
			m.SetItemNullable(false)
		}
		return m, p.expect(">")
	case "timestamp":
		if err := p.expect("["); err != nil {
			return nil, err
		}
		u, err := p.unit()
		if err != nil {
			return nil, err
		}
		tz := ""
		if p.eat(", tz=") {
			tz = p.until("]")
		}
		return &arrow.TimestampType{Unit: u, TimeZone: tz}, p.expect("]")
	case "duration", "time32", "time64":
		if err := p.expect("["); err != nil {
			return nil, err
		}
		u, err := p.unit()
		if err != nil {
			return nil, err
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		switch name {
		case "duration":
			return &arrow.DurationType{Unit: u}, nil
		case "time32":
			return &arrow.Time32Type{Unit: u}, nil
		}
		return &arrow.Time64Type{Unit: u}, nil
	case "fixed_size_binary":
		if err := p.expect("["); err != nil {
			return nil, err
		}
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: n}, p.expect("]")
	case "decimal", "decimal128", "decimal256":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		prec, err := p.number()
		if err != nil {
			return nil, err
		}
		if err := p.expect(", "); err != nil {
			return nil, err
		}
		scale, err := p.number()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if name == "decimal256" {
			return &arrow.Decimal256Type{Precision: int32(prec), Scale: int32(scale)}, nil
		}
		return &arrow.Decimal128Type{Precision: int32(prec), Scale: int32(scale)}, nil
	case "":
		return nil, p.errorf("want a type name")
	}
	return nil, errors.New("unknown type " + strconv.Quote(name))
}

// listField parses "NAME: TYPE[, nullable]" inside list<...>.
func (p *typeParser) listField() (arrow.Field, error) {
	name := p.until(": ")
	if err := p.expect(": "); err != nil {
		return arrow.Field{}, err
	}
	t, err := p.parseType()
	if err != nil {
		return arrow.Field{}, err
	}
	return arrow.Field{Name: name, Type: t, Nullable: p.eat(", nullable")}, nil
}
