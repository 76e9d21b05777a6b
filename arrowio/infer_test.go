package arrowio

import (
	"errors"
	"strings"
	"testing"
)

// schemaString renders a schema compactly: "a:int64, b:struct<...>".
func schemaString(fields []string) string { return strings.Join(fields, ", ") }

func TestInferJSONLSchema(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty input", "", ""},
		{"scalars", `{"b":true,"i":1,"f":1.5,"s":"x","n":null}`, "b:bool, i:int64, f:float64, s:utf8, n:null"},
		{"null then value", "{\"a\":null}\n{\"a\":2}", "a:int64"},
		{"int then float", "{\"a\":1}\n{\"a\":1.0}", "a:float64"},
		{"float then int", "{\"a\":1e2}\n{\"a\":1}", "a:float64"},
		{"int beyond int64", `{"a":18446744073709551615}`, "a:float64"},
		{"bool and int mixed", "{\"a\":true}\n{\"a\":1}", "a:utf8"},
		{"object and array mixed", "{\"a\":{}}\n{\"a\":[]}", "a:utf8"},
		{"string and number mixed", "{\"a\":\"x\"}\n{\"a\":1}", "a:utf8"},
		{"key order of first appearance", "{\"b\":1}\n{\"a\":1,\"b\":2,\"c\":3}", "b:int64, a:int64, c:int64"},
		{"struct union", "{\"s\":{\"x\":1}}\n{\"s\":{\"y\":\"t\",\"x\":2.5}}", "s:struct<x: float64 nullable, y: utf8 nullable>"},
		{"empty struct", `{"s":{}}`, "s:struct<>"},
		{"list element unified", `{"l":[1,2.5,null]}`, "l:list<item: float64, nullable>"},
		{"empty list", `{"l":[]}`, "l:list<item: null, nullable>"},
		{"list of mixed", `{"l":[1,"a"]}`, "l:list<item: utf8, nullable>"},
		{"list of structs", `{"l":[{"a":1},{"b":true}]}`, "l:list<item: struct<a: int64 nullable, b: bool nullable>, nullable>"},
		{"nested lists", "{\"l\":[[1],[]]}\n{\"l\":[[null,2.5]]}", "l:list<item: list<item: float64, nullable>, nullable>"},
		{"blank lines ignored", "\n\n{\"a\":1}\n  \n", "a:int64"},
		{"timestamps stay strings", `{"t":"2024-01-01T00:00:00Z"}`, "t:utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := InferJSONLSchema(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range s.Fields() {
				got = append(got, f.Name+":"+f.Type.String())
				if !f.Nullable {
					t.Errorf("field %s not nullable", f.Name)
				}
			}
			if g := schemaString(got); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
}

func TestInferSampleLimit(t *testing.T) {
	in := "{\"a\":1}\n{\"a\":2}\n{\"a\":\"x\",\"b\":1}\n"
	for _, tt := range []struct {
		rows int
		want string
	}{{1, "int64 1"}, {2, "int64 1"}, {3, "utf8 2"}, {-1, "utf8 2"}} {
		s, err := InferJSONLSchema(strings.NewReader(in), WithInferRows(tt.rows))
		if err != nil {
			t.Fatal(err)
		}
		got := s.Field(0).Type.String() + " " + string(rune('0'+s.NumFields()))
		if got != tt.want {
			t.Errorf("InferRows %d: got %s, want %s", tt.rows, got, tt.want)
		}
	}
}

func TestInferMixedError(t *testing.T) {
	tests := []struct {
		in   string
		want string // error text
	}{
		{"{\"a\":1}\n{\"a\":\"x\"}", `<input>:2:6 (column "a"): schema mismatch: field "a": mixed kinds int and string`},
		{"{\"s\":{\"l\":[1]}}\n\n{\"s\":{\"l\":[{}]}}", `<input>:3:12 (column "s"): schema mismatch: field "s.l[]": mixed kinds int and object`},
		{"{\"a\":[true]}\n{\"a\":{}}", `<input>:2:6 (column "a"): schema mismatch: field "a": mixed kinds array and object`},
	}
	for _, tt := range tests {
		_, err := InferJSONLSchema(strings.NewReader(tt.in), WithMixedTypes(MixedError), WithPermissive(true))
		if !errors.Is(err, ErrSchema) {
			t.Fatalf("%q: got %v, want ErrSchema", tt.in, err)
		}
		if err.Error() != tt.want {
			t.Errorf("got  %s\nwant %s", err, tt.want)
		}
	}
}

func TestInferPermissive(t *testing.T) {
	in := "{\"a\":1}\n{\"a\":\"x\",\n{\"a\":2,\"b\":[}\n"
	s, err := InferJSONLSchema(strings.NewReader(in), WithPermissive(true))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); !strings.Contains(got, "a: type=int64") || s.NumFields() != 1 {
		t.Errorf("bad lines left a trace in the schema: %s", got)
	}
	_, err = InferJSONLSchema(strings.NewReader(in))
	if !errors.Is(err, ErrSyntax) {
		t.Fatalf("strict inference: got %v, want ErrSyntax", err)
	}
}
