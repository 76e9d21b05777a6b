package arrowio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestJSONLErrorPositions(t *testing.T) {
	i64 := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	nested := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.StructOf(
		arrow.Field{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true}), Nullable: true}}, nil)
	one := func(name string, dt arrow.DataType) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{{Name: name, Type: dt, Nullable: true}}, nil)
	}
	tests := []struct {
		name      string
		in        string
		schema    *arrow.Schema
		opts      []ReadOption
		line, col int64
		kind      error
		column    string
		msg       string
	}{
		{"double comma", "{\"a\":1}\n{\"a\":1,,}", nil, nil, 2, 8, ErrSyntax, "", "looking for beginning of object key string"},
		{"missing comma", `{"a":1 "b":2}`, i64, nil, 1, 8, ErrSyntax, "", "expected ',' or '}'"},
		{"bad literal", `{"a":tru}`, i64, nil, 1, 6, ErrSyntax, "", "invalid literal (expected true)"},
		{"unterminated string", `{"a":"abc}`, i64, nil, 1, 6, ErrSyntax, "", "unterminated string"},
		{"array line", `[1,2]`, nil, nil, 1, 1, ErrSyntax, "", "line holds a JSON array, not an object"},
		{"number line", "{}\n42", nil, nil, 2, 1, ErrSyntax, "", "line holds a JSON number, not an object"},
		{"trailing data", `{"a":1} x`, i64, nil, 1, 9, ErrSyntax, "", "unexpected data after the object"},
		{"leading zero", `{"a":01}`, i64, nil, 1, 7, ErrSyntax, "", "expected ',' or '}'"},
		{"lone minus", `{"a":-}`, i64, nil, 1, 6, ErrSyntax, "", "invalid number"},
		{"no fraction digits", `{"a":1.}`, i64, nil, 1, 8, ErrSyntax, "", "no digits after decimal point"},
		{"bad escape", `{"a":"\x"}`, nil, nil, 1, 7, ErrSyntax, "", `invalid escape 'x'`},
		{"missing colon", `{"a" 1}`, i64, nil, 1, 6, ErrSyntax, "", "expected ':'"},
		{"missing colon in skipped object", `{"a":1,"z":{"k" 1}}`, i64, nil, 1, 17, ErrSyntax, "", "invalid character '1' after object key (expected ':')"},
		{"truncated line", `{"a":1`, i64, nil, 1, 7, ErrSyntax, "", "unexpected end of line"},
		{"after BOM", "\xEF\xBB\xBF{,}", i64, nil, 1, 5, ErrSyntax, "", "object key"},
		{"CRLF", "{\"a\":1}\r\n{\"a\":}\r\n", i64, nil, 2, 6, ErrSyntax, "", "invalid character '}'"},
		{"unprojected bad value", `{"a":1,"b":[1,}`, i64, nil, 1, 15, ErrSyntax, "", "looking for beginning of value"},
		{"string into int", "\n{\"a\":\"x\"}", i64, nil, 2, 6, ErrSchema, "a", `field "a": cannot convert string to int64`},
		{"int8 overflow", `{"a":300}`, one("a", arrow.PrimitiveTypes.Int8), nil, 1, 6, ErrSchema, "a", "number 300 does not fit int8"},
		{"fraction into int", `{"a":1.5}`, i64, nil, 1, 6, ErrSchema, "a", "does not fit int64"},
		{"int64 overflow", `{"a":9223372036854775808}`, i64, nil, 1, 6, ErrSchema, "a", "does not fit int64"},
		{"negative into uint", `{"a":-1}`, one("a", arrow.PrimitiveTypes.Uint32), nil, 1, 6, ErrSchema, "a", "does not fit uint32"},
		{"nested path", `{"s":{"l":[1,"x"]}}`, nested, nil, 1, 14, ErrSchema, "s", `field "s.l[]": cannot convert string to int64`},
		{"fixed size list length", `{"a":[1,2,3]}`, one("a", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float32)), nil, 1, 6, ErrSchema, "a", "array of 3 elements"},
		{"bad timestamp", `{"a":"yesterday"}`, one("a", arrow.FixedWidthTypes.Timestamp_us), nil, 1, 6, ErrSchema, "a", "not an ISO-8601"},
		{"bad base64", `{"a":"!!"}`, one("a", arrow.BinaryTypes.Binary), nil, 1, 6, ErrSchema, "a", "invalid base64"},
		{"bool from number", `{"a":1}`, one("a", arrow.FixedWidthTypes.Boolean), nil, 1, 6, ErrSchema, "a", "cannot convert number to bool"},
		{"null column gets value", "{\"a\":null}\n{\"a\":1}", nil, []ReadOption{WithInferRows(1)}, 2, 6, ErrSchema, "a", "column of type null"},
		{"inferred int gets string", "{\"a\":1}\n{\"a\":\"x\"}", nil, []ReadOption{WithInferRows(1)}, 2, 6, ErrSchema, "a", "cannot convert string to int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if tt.schema != nil {
				opts = append(opts, WithSchema(tt.schema))
			}
			_, _, err := decodeJSONL(t, tt.in, opts...)
			pe, ok := errors.AsType[*PosError](err)
			if !ok {
				t.Fatalf("got %v, want a *PosError", err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v does not wrap %v", err, tt.kind)
			}
			if pe.Path != "in.jsonl" || pe.Line != tt.line || pe.Column != tt.col || pe.ColumnName != tt.column {
				t.Errorf("got %s:%d:%d column %q, want in.jsonl:%d:%d column %q (%v)", pe.Path, pe.Line, pe.Column, pe.ColumnName, tt.line, tt.col, tt.column, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestJSONLPermissive(t *testing.T) {
	i64 := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	in := strings.Join([]string{
		`{"a":1,"l":["x"]}`,
		`{"a":2,"l":["y","z"],`, // syntax error after both columns got values
		`[1]`,
		`{"l":["w"],"a":"bad"}`, // schema error after l got a value
		``,
		`{"a":3}`,
		`{"a":4,"l":["v"]} trailing`,
	}, "\n")
	mem := newCheckedMem(t)
	fsys := memFile(t, "p.jsonl", []byte(in))
	r, err := OpenJSONL(fsys, "p.jsonl", WithSchema(i64), WithPermissive(true), WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for b, err := range r.Batches(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%v|%v;", b.Column(0), b.Column(1))
	}
	if got, want := sb.String(), `[1 3]|[["x"] (null)];`; got != want {
		t.Errorf("rows: got %s, want %s", got, want)
	}
	if r.Skipped() != 4 {
		t.Errorf("Skipped() = %d, want 4", r.Skipped())
	}
	var sc SkipCounter = r
	_ = sc
}

// TestJSONLIntegerRange decodes numbers at and past the bounds of each
// integer width, written as integers and as whole-valued floats.
func TestJSONLIntegerRange(t *testing.T) {
	tests := []struct {
		dt   arrow.DataType
		in   string
		want string // the decoded value as JSON; "" for a "does not fit" error
	}{
		{arrow.PrimitiveTypes.Int8, "127", "127"},
		{arrow.PrimitiveTypes.Int8, "-128", "-128"},
		{arrow.PrimitiveTypes.Int8, "128", ""},
		{arrow.PrimitiveTypes.Int8, "-129", ""},
		{arrow.PrimitiveTypes.Int8, "1e2", "100"},
		{arrow.PrimitiveTypes.Int8, "-128.0", "-128"},
		{arrow.PrimitiveTypes.Int8, "128.0", ""},
		{arrow.PrimitiveTypes.Int8, "1.5", ""},
		{arrow.PrimitiveTypes.Int64, "9223372036854775807", "9223372036854775807"},
		{arrow.PrimitiveTypes.Int64, "-9223372036854775808", "-9223372036854775808"},
		{arrow.PrimitiveTypes.Int64, "9223372036854775808", ""},
		{arrow.PrimitiveTypes.Int64, "-9.223372036854775808e18", "-9223372036854775808"},
		{arrow.PrimitiveTypes.Int64, "9.3e18", ""},
		{arrow.PrimitiveTypes.Uint8, "255", "255"},
		{arrow.PrimitiveTypes.Uint8, "256", ""},
		{arrow.PrimitiveTypes.Uint8, "-1", ""},
		{arrow.PrimitiveTypes.Uint8, "2.55e2", "255"},
		{arrow.PrimitiveTypes.Uint8, "-1.0", ""},
		{arrow.PrimitiveTypes.Uint64, "18446744073709551615", "18446744073709551615"},
		{arrow.PrimitiveTypes.Uint64, "18446744073709551616", ""},
		{arrow.PrimitiveTypes.Uint64, "1.8e19", "18000000000000000000"},
		{arrow.PrimitiveTypes.Uint64, "1.9e19", ""},
	}
	for _, tt := range tests {
		t.Run(tt.dt.String()+" "+tt.in, func(t *testing.T) {
			schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: tt.dt, Nullable: true}}, nil)
			_, got, err := decodeJSONL(t, `{"a":`+tt.in+"}\n", WithSchema(schema))
			if tt.want == "" {
				if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "number "+tt.in+" does not fit "+tt.dt.String()) {
					t.Fatalf("got %q, error %v; want a does-not-fit error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"a":` + tt.want + "}\n"; got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}
