package arrowio

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestJSONLDecode(t *testing.T) {
	ts := arrow.FixedWidthTypes.Timestamp_ms
	tests := []struct {
		name   string
		in     string
		schema *arrow.Schema // nil: inferred
		opts   []ReadOption
		want   string // rows as rendered by array.RecordToJSON
	}{
		{
			name: "scalars",
			in:   `{"i":1,"f":1.5,"b":true,"s":"x","n":null}` + "\n" + `{"i":-2,"f":-0.25e2,"b":false,"s":"","n":null}`,
			want: `{"b":true,"f":1.5,"i":1,"n":null,"s":"x"}
{"b":false,"f":-25,"i":-2,"n":null,"s":""}
`,
		},
		{
			name: "escapes and unicode",
			in:   `{"s":"q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00 ü 中"}` + "\n" + `{"s":"lone \ud800 x"}`,
			want: `{"s":"q\"b\\s/\u0008\u000c\n\r\té😀 ü 中"}
{"s":"lone � x"}
`,
		},
		{
			name: "int64 edges and overflow widening",
			in:   `{"a":9223372036854775807,"b":9223372036854775807}` + "\n" + `{"a":-9223372036854775808,"b":9223372036854775808}`,
			want: `{"a":9223372036854775807,"b":9223372036854776000}
{"a":-9223372036854775808,"b":9223372036854776000}
`,
		},
		{
			name: "int widens to float",
			in:   "{\"x\":1}\n{\"x\":2.5}\n{\"x\":3e2}",
			want: "{\"x\":1}\n{\"x\":2.5}\n{\"x\":300}\n",
		},
		{
			name: "nested struct union of keys and missing keys",
			in:   `{"m":{"a":1}}` + "\n" + `{"m":{"b":"x","a":2}}` + "\n" + `{"m":null}` + "\n" + `{}`,
			want: `{"m":{"a":1,"b":null}}
{"m":{"a":2,"b":"x"}}
{"m":null}
{"m":null}
`,
		},
		{
			name: "lists",
			in:   `{"l":[[1,2],[],null],"e":[]}` + "\n" + `{"l":[[3]],"e":[]}` + "\n" + `{"l":null}`,
			want: `{"e":[],"l":[[1,2],[],null]}
{"e":[],"l":[[3]]}
{"e":null,"l":null}
`,
		},
		{
			name: "mixed kinds become JSON text",
			in:   `{"a":1}` + "\n" + `{"a":"x"}` + "\n" + `{"a":[1, {"k" : true}]}` + "\n" + `{"a":null}`,
			want: `{"a":"1"}
{"a":"x"}
{"a":"[1, {\"k\" : true}]"}
{"a":null}
`,
		},
		{
			name: "blank lines BOM CRLF whitespace",
			in:   "\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \n\t{ \"a\" : 2 } \r\n\n",
			want: "{\"a\":1}\n{\"a\":2}\n",
		},
		{
			name: "duplicate keys first wins; escaped keys",
			in:   `{"a":1,"a":2,"b\u0031":3}`,
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
				{Name: "b1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			}, nil),
			want: `{"a":1,"b1":3}` + "\n",
		},
		{
			name: "explicit schema conversions",
			in: `{"f":1,"i8":-128,"u":255,"s":{"x":1},"extra":[1,2],"fl":1e3}` + "\n" +
				`{"f":2.5,"i8":127,"u":0,"s":"t","fl":-0.0}`,
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
				{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
				{Name: "u", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
				{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
				{Name: "fl", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
				{Name: "missing", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			}, nil),
			want: `{"f":1,"fl":1000,"i8":-128,"missing":null,"s":"{\"x\":1}","u":255}
{"f":2.5,"fl":0,"i8":127,"missing":null,"s":"t","u":0}
`,
		},
		{
			name: "timestamps dates binary decimal",
			in: `{"t":"2024-05-01T12:30:00.250Z","d":"2024-02-29","b":"aGk=","dec":"12.5","d64":"1970-01-02"}` + "\n" +
				`{"t":"2024-05-01 14:30:00+02:00","d":19000,"b":"","dec":-3,"d64":null}` + "\n" +
				`{"t":1714566600250,"d":null,"b":null,"dec":null,"d64":86400000}`,
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "t", Type: ts, Nullable: true},
				{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
				{Name: "b", Type: arrow.BinaryTypes.Binary, Nullable: true},
				{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
				{Name: "d64", Type: arrow.FixedWidthTypes.Date64, Nullable: true},
			}, nil),
			want: `{"b":"aGk=","d":"2024-02-29","d64":"1970-01-02","dec":"12.5","t":"2024-05-01T12:30:00.25Z"}
{"b":"","d":"2022-01-08","d64":null,"dec":"-3","t":"2024-05-01T12:30:00Z"}
{"b":null,"d":null,"d64":"1970-01-02","dec":null,"t":"2024-05-01T12:30:00.25Z"}
`,
		},
		{
			name: "fixed size list and map",
			in:   `{"e":[1,2.5],"m":{"a":1,"b":null}}` + "\n" + `{"e":null,"m":{}}` + "\n" + `{"m":null}`,
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "e", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float32), Nullable: true},
				{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
			}, nil),
			want: `{"e":[1,2.5],"m":[{"key":"a","value":1},{"key":"b","value":null}]}
{"e":null,"m":[]}
{"e":null,"m":null}
`,
		},
		{
			name: "projection in requested order",
			in:   `{"a":1,"b":"x","c":[1]}` + "\n" + `{"a":2,"b":"y","c":{"bad":` + "[1,2]}}",
			opts: []ReadOption{WithColumns("b", "a"), WithInferRows(1)},
			want: `{"a":1,"b":"x"}
{"a":2,"b":"y"}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if tt.schema != nil {
				opts = append(opts, WithSchema(tt.schema))
			}
			_, got, err := decodeJSONL(t, tt.in, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
