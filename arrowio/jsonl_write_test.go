package arrowio

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
)

// writeColumn writes arr as the single column "v" and returns the output.
func writeColumn(t *testing.T, arr arrow.Array) string {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arr.DataType(), Nullable: true}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len()))
	defer rec.Release()
	var out bytes.Buffer
	w, err := NewWriter(&out, schema, WithOutputFormat(FormatJSONL, CompressionNone))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func fromJSON(t *testing.T, mem memory.Allocator, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(mem, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("FromJSON %s: %v", dt, err)
	}
	return arr
}

func TestJSONLWriterEncodings(t *testing.T) {
	mem := newCheckedMem(t)
	tests := []struct {
		name string
		arr  func() arrow.Array
		want []string // the JSON of each value
	}{
		{"bool", func() arrow.Array { return fromJSON(t, mem, arrow.FixedWidthTypes.Boolean, `[true,false,null]`) }, []string{"true", "false", "null"}},
		{"int8", func() arrow.Array { return fromJSON(t, mem, arrow.PrimitiveTypes.Int8, `[-128,127]`) }, []string{"-128", "127"}},
		{"uint64", func() arrow.Array { return fromJSON(t, mem, arrow.PrimitiveTypes.Uint64, `[18446744073709551615]`) }, []string{"18446744073709551615"}},
		{"int64 sliced", func() arrow.Array {
			a := fromJSON(t, mem, arrow.PrimitiveTypes.Int64, `[1,2,null,-9223372036854775808]`)
			defer a.Release()
			return array.NewSlice(a, 1, 4)
		}, []string{"2", "null", "-9223372036854775808"}},
		{"float64", func() arrow.Array {
			b := array.NewFloat64Builder(mem)
			defer b.Release()
			b.AppendValues([]float64{0.1, 1e21, 1e-7, -2, math.NaN(), math.Inf(1), 123456.789, 5e-324}, nil)
			return b.NewArray()
		}, []string{"0.1", "1e+21", "1e-7", "-2", "null", "null", "123456.789", "5e-324"}},
		{"float32", func() arrow.Array {
			return fromJSON(t, mem, arrow.PrimitiveTypes.Float32, `[0.1, 3.4028235e38, 16777216]`)
		}, []string{"0.1", "3.4028235e+38", "16777216"}},
		{"float16", func() arrow.Array {
			b := array.NewFloat16Builder(mem)
			defer b.Release()
			b.Append(float16.New(1.5))
			return b.NewArray()
		}, []string{"1.5"}},
		{"string escapes", func() arrow.Array {
			b := array.NewStringBuilder(mem)
			defer b.Release()
			b.AppendValues([]string{"a\"b\\c\n\r\t\x01", "ü日本🙂", "bad\xffutf8", "sep\u2028", "",
				"0123456789abcdefghijklmnopqrstuvwxyz\u2029\"é\x1f€", "0123456789abcdefghijklmnopqrstuvwxyz\xe2\x80\n\u2028"}, nil)
			return b.NewArray()
		}, []string{`"a\"b\\c\n\r\t\u0001"`, `"ü日本🙂"`, `"bad\ufffdutf8"`, `"sep\u2028"`, `""`,
			`"0123456789abcdefghijklmnopqrstuvwxyz\u2029\"é\u001f€"`, `"0123456789abcdefghijklmnopqrstuvwxyz\ufffd\ufffd\n\u2028"`}},
		{"large string", func() arrow.Array { return fromJSON(t, mem, arrow.BinaryTypes.LargeString, `["x",null]`) }, []string{`"x"`, "null"}},
		{"binary", func() arrow.Array { return fromJSON(t, mem, arrow.BinaryTypes.Binary, `["aGk=",""]`) }, []string{`"aGk="`, `""`}},
		{"fixed size binary", func() arrow.Array {
			b := array.NewFixedSizeBinaryBuilder(mem, &arrow.FixedSizeBinaryType{ByteWidth: 2})
			defer b.Release()
			b.Append([]byte{0xff, 0})
			return b.NewArray()
		}, []string{`"/wA="`}},
		{"timestamp naive", func() arrow.Array {
			return fromJSON(t, mem, &arrow.TimestampType{Unit: arrow.Microsecond}, `["2024-05-01T12:30:00.000250"]`)
		}, []string{`"2024-05-01T12:30:00.00025"`}},
		{"timestamp zoned", func() arrow.Array {
			return fromJSON(t, mem, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, `[-1]`)
		}, []string{`"1969-12-31T23:59:59Z"`}},
		{"date32", func() arrow.Array {
			return fromJSON(t, mem, arrow.FixedWidthTypes.Date32, `["2024-02-29","1900-01-01"]`)
		}, []string{`"2024-02-29"`, `"1900-01-01"`}},
		{"date64", func() arrow.Array { return fromJSON(t, mem, arrow.FixedWidthTypes.Date64, `["2024-02-29"]`) }, []string{`"2024-02-29"`}},
		{"time32", func() arrow.Array { return fromJSON(t, mem, arrow.FixedWidthTypes.Time32ms, `["12:30:00.5"]`) }, []string{`"12:30:00.5"`}},
		{"duration", func() arrow.Array { return fromJSON(t, mem, arrow.FixedWidthTypes.Duration_ms, `[1500]`) }, []string{"1500"}},
		{"decimal128", func() arrow.Array {
			b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 10, Scale: 2})
			defer b.Release()
			b.Append(decimal128.FromI64(-1250))
			b.AppendNull()
			return b.NewArray()
		}, []string{`"-12.50"`, "null"}},
		{"list sliced", func() arrow.Array {
			a := fromJSON(t, mem, arrow.ListOf(arrow.PrimitiveTypes.Int32), `[[9],[1,2],[],null,[3]]`)
			defer a.Release()
			return array.NewSlice(a, 1, 5)
		}, []string{"[1,2]", "[]", "null", "[3]"}},
		{"large list", func() arrow.Array {
			return fromJSON(t, mem, arrow.LargeListOf(arrow.BinaryTypes.String), `[["a",null]]`)
		}, []string{`["a",null]`}},
		{"fixed size list sliced", func() arrow.Array {
			a := fromJSON(t, mem, arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float32), `[[1,2],[3,4],null]`)
			defer a.Release()
			return array.NewSlice(a, 1, 3)
		}, []string{"[3,4]", "null"}},
		{"struct", func() arrow.Array {
			dt := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
				arrow.Field{Name: "b \"q\"", Type: arrow.BinaryTypes.String, Nullable: true})
			return fromJSON(t, mem, dt, `[{"a":1,"b \"q\"":"x"},null,{"a":null,"b \"q\"":null}]`)
		}, []string{`{"a":1,"b \"q\"":"x"}`, "null", `{"a":null,"b \"q\"":null}`}},
		{"empty struct", func() arrow.Array { return fromJSON(t, mem, arrow.StructOf(), `[{}]`) }, []string{"{}"}},
		{"map string keys", func() arrow.Array {
			return fromJSON(t, mem, arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), `[[{"key":"x","value":1},{"key":"y","value":null}],[]]`)
		}, []string{`{"x":1,"y":null}`, "{}"}},
		{"map int keys", func() arrow.Array {
			return fromJSON(t, mem, arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String), `[[{"key":7,"value":"s"}]]`)
		}, []string{`[{"key":7,"value":"s"}]`}},
		{"dictionary", func() arrow.Array {
			b := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
			defer b.Release()
			b.AppendString("pos")
			b.AppendString("neg")
			b.AppendNull()
			b.AppendString("pos")
			return b.NewArray()
		}, []string{`"pos"`, `"neg"`, "null", `"pos"`}},
		{"null", func() arrow.Array { return array.NewNull(2) }, []string{"null", "null"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arr := tt.arr()
			defer arr.Release()
			var want strings.Builder
			for _, v := range tt.want {
				want.WriteString(`{"v":` + v + "}\n")
			}
			if got := writeColumn(t, arr); got != want.String() {
				t.Errorf("got\n%s\nwant\n%s", got, want.String())
			}
		})
	}
}

func TestJSONLWriterUnsupported(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "u", Type: arrow.SparseUnionOf(nil, nil)}}, nil)
	var out bytes.Buffer
	if _, err := NewWriter(&out, schema, WithOutputFormat(FormatJSONL, CompressionNone)); err == nil {
		t.Fatal("union column: no error")
	}
}

// renderAll renders every batch of r as arrow's JSON, one row per line.
func renderAll(t *testing.T, r Reader) string {
	t.Helper()
	var out bytes.Buffer
	for b, err := range r.Batches(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if err := array.RecordToJSON(b, &out); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

func TestJSONLRoundTrip(t *testing.T) {
	mem := newCheckedMem(t)
	fsys := memFile(t, "src.jsonl", synthJSONL(3000, 5))
	src, err := OpenJSONL(fsys, "src.jsonl", WithAllocator(mem), WithBatchSize(700))
	if err != nil {
		t.Fatal(err)
	}
	want := renderAll(t, src)
	for _, out := range []string{"out.jsonl", "out.jsonl.gz", "out.jsonl.zst"} {
		w, err := Create(fsys, out, src.Schema())
		if err != nil {
			t.Fatal(err)
		}
		for b, err := range src.Batches(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		back, err := Open(fsys, out, WithSchema(src.Schema()), WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		if got := renderAll(t, back); got != want {
			t.Errorf("%s: round trip differs", out)
		}
		back.Close()
	}
	// Inferring the written file gives the same schema back.
	back, err := Open(fsys, "out.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !back.Schema().Equal(src.Schema()) {
		t.Errorf("re-inferred schema %s, want %s", back.Schema(), src.Schema())
	}
	if ok, _ := afero.Exists(fsys, "out.jsonl.zst"); !ok {
		t.Error("output not renamed into place")
	}
}

func TestJSONLRoundTripTypes(t *testing.T) {
	in := `{"t":"2024-05-01T12:30:00.25Z","d":"2024-02-29","b":"aGk=","dec":"-12.50","f":0.1,"u":18446744073709551615,"m":{"k":[1.5]},"e":[1,2],"s":{"x":"\u00e9\n"},"tod":"23:59:59.000001","t32":"00:00:01.5","dur":-5,"h":0.5}
{"t":null,"d":null,"b":null,"dec":null,"f":null,"u":null,"m":null,"e":null,"s":null,"tod":null,"t32":3600000,"dur":null,"h":null}
`
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.PrimitiveTypes.Float64)), Nullable: true},
		{Name: "e", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int16), Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true},
		{Name: "tod", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "t32", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
		{Name: "dur", Type: arrow.FixedWidthTypes.Duration_s, Nullable: true},
		{Name: "h", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
	}, nil)
	mem := newCheckedMem(t)
	fsys := memFile(t, "a.jsonl", []byte(in))
	r, err := OpenJSONL(fsys, "a.jsonl", WithSchema(schema), WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, r)
	defer releaseBatches(bs)
	w, err := Create(fsys, "b.jsonl", schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	written, _ := afero.ReadFile(fsys, "b.jsonl")
	want := `{"t":"2024-05-01T12:30:00.25Z","d":"2024-02-29","b":"aGk=","dec":"-12.50","f":0.1,"u":18446744073709551615,"m":{"k":[1.5]},"e":[1,2],"s":{"x":"é\n"},"tod":"23:59:59.000001","t32":"00:00:01.5","dur":-5,"h":0.5}
{"t":null,"d":null,"b":null,"dec":null,"f":null,"u":null,"m":null,"e":null,"s":null,"tod":null,"t32":"01:00:00","dur":null,"h":null}
`
	if string(written) != want {
		t.Errorf("written\n%s\nwant\n%s", written, want)
	}
	r2, err := OpenJSONL(fsys, "b.jsonl", WithSchema(schema), WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	bs2 := collect(t, r2)
	defer releaseBatches(bs2)
	sameBatches(t, "types round trip", bs, bs2)
}
