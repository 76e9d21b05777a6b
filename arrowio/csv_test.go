package arrowio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// readCSV reads text as a CSV file and returns the reader's schema and its
// rows rendered with csvText ("" for null).
func readCSV(t *testing.T, text string, opts ...ReadOption) (*arrow.Schema, [][]string, error) {
	t.Helper()
	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "/in.csv", []byte(text), 0o644))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := Open(fsys, "/in.csv", append(opts, WithAllocator(mem))...)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var rows [][]string
	for rec, err := range r.Batches(context.Background()) {
		if err != nil {
			return r.Schema(), rows, err
		}
		require.True(t, r.Schema().Equal(rec.Schema()))
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for j, c := range rec.Columns() {
				row[j], err = csvText(c, i)
				require.NoError(t, err)
			}
			rows = append(rows, row)
		}
	}
	return r.Schema(), rows, nil
}

func typeNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name + ":" + f.Type.String()
	}
	return out
}

func TestCSVInference(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		opts  []ReadOption
		types []string
		rows  [][]string
	}{
		{
			name:  "kinds",
			in:    "a,b,c,d,e\n1,1,true,x,\n-2,2.5,False,y,\n,3,,z,\n",
			types: []string{"a:int64", "b:float64", "c:bool", "d:utf8", "e:utf8"},
			rows:  [][]string{{"1", "1", "true", "x", ""}, {"-2", "2.5", "false", "y", ""}, {"", "3", "", "z", ""}},
		},
		{
			name:  "mixed becomes string",
			in:    "a,b\n1,true\nn/a,1\n",
			types: []string{"a:utf8", "b:utf8"},
			rows:  [][]string{{"1", "true"}, {"n/a", "1"}},
		},
		{
			name:  "inf and nan are text",
			in:    "a\ninf\nNaN\n",
			types: []string{"a:utf8"},
			rows:  [][]string{{"inf"}, {"NaN"}},
		},
		{
			name:  "int overflow widens to float",
			in:    "a\n1\n99999999999999999999\n",
			types: []string{"a:float64"},
			rows:  [][]string{{"1"}, {"1e+20"}},
		},
		{
			name:  "header only",
			in:    "a,b\n",
			types: []string{"a:utf8", "b:utf8"},
		},
		{
			name:  "crlf and blank lines",
			in:    "a,b\r\n1,2\r\n\r\n3,4\r\n",
			types: []string{"a:int64", "b:int64"},
			rows:  [][]string{{"1", "2"}, {"3", "4"}},
		},
		{
			name:  "duplicate header names",
			in:    "a,a\n1,x\n",
			types: []string{"a:int64", "a:utf8"},
			rows:  [][]string{{"1", "x"}},
		},
		{
			name:  "projection",
			in:    "a,b,c\n1,x,2\n",
			opts:  []ReadOption{WithColumns("c", "a")},
			types: []string{"c:int64", "a:int64"},
			rows:  [][]string{{"2", "1"}},
		},
		{
			name: "explicit schema",
			in:   "when,n,extra,flag\n2024-05-06,7,zzz,1\n2024-05-07 10:00:00,,q,false\n",
			opts: []ReadOption{WithSchema(arrow.NewSchema([]arrow.Field{
				{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
				{Name: "when", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, Nullable: true},
				{Name: "missing", Type: arrow.BinaryTypes.String, Nullable: true},
				{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			}, nil))},
			types: []string{"n:int32", "when:timestamp[s, tz=UTC]", "missing:utf8", "flag:bool"},
			rows:  [][]string{{"7", "2024-05-06T00:00:00Z", "", "true"}, {"", "2024-05-07T10:00:00Z", "", "false"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema, rows, err := readCSV(t, tc.in, tc.opts...)
			require.NoError(t, err)
			require.Equal(t, tc.types, typeNames(schema))
			require.Equal(t, tc.rows, rows)
		})
	}
}

func TestCSVQuotedFixture(t *testing.T) {
	raw, err := os.ReadFile("../testdata/csv/quoted.csv")
	require.NoError(t, err)
	schema, rows, err := readCSV(t, string(raw))
	require.NoError(t, err)
	require.Equal(t, []string{"id:int64", "name:utf8", "score:float64", "ok:bool", "note:utf8"}, typeNames(schema))
	require.Equal(t, [][]string{
		{"1", "Smith, Jane", "3.5", "true", "said \"hi\"\nthen left"},
		{"2", "Bob", "4", "false", ""},
		{"3", "", "", "true", "plain"},
	}, rows)
}

func TestCSVErrors(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		opts      []ReadOption
		sentinel  error
		line, col int64
		column    string
	}{
		{name: "empty file", in: "", sentinel: ErrSyntax, line: 1},
		{name: "field count", in: "a,b\n1,2\n3\n", sentinel: ErrSyntax, line: 3, col: 1},
		{name: "bare quote", in: "a,b\n1,x\"y\n", sentinel: ErrSyntax, line: 2, col: 4},
		{name: "unterminated quote", in: "a,b\n1,\"xy\n", sentinel: ErrSyntax, line: 2, col: 7},
		{name: "mixed error", in: "a,b\n1,2\n3,x\n", opts: []ReadOption{WithMixedTypes(MixedError)}, sentinel: ErrSchema, line: 3, col: 3, column: "b"},
		{name: "after sample", in: "a,b\n1,2\n3,4\n5,oops\n", opts: []ReadOption{WithInferRows(2)}, sentinel: ErrSchema, line: 4, col: 3, column: "b"},
		{name: "explicit type", in: "a\n300\n", opts: []ReadOption{WithSchema(arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int8}}, nil))}, sentinel: ErrSchema, line: 2, col: 1, column: "a"},
		{name: "unknown column", in: "a\n1\n", opts: []ReadOption{WithColumns("z")}, sentinel: ErrSchema},
		{name: "unsupported type", in: "a\n1\n", opts: []ReadOption{WithSchema(arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.ListOf(arrow.BinaryTypes.String)}}, nil))}, sentinel: ErrUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readCSV(t, tc.in, tc.opts...)
			require.ErrorIs(t, err, tc.sentinel)
			pe, ok := errors.AsType[*PosError](err)
			require.True(t, ok, "%T %v", err, err)
			require.Equal(t, "/in.csv", pe.Path)
			require.Equal(t, tc.line, pe.Line, "line in %v", err)
			require.Equal(t, tc.col, pe.Column, "column in %v", err)
			require.Equal(t, tc.column, pe.ColumnName)
		})
	}
}

func TestCSVPermissive(t *testing.T) {
	fsys := afero.NewMemMapFs()
	in := "a,b\n1,2\n3\n4,5\n6,x\"\n7,eight\n9,10\n"
	require.NoError(t, afero.WriteFile(fsys, "/in.csv", []byte(in), 0o644))
	r, err := Open(fsys, "/in.csv", WithPermissive(true), WithInferRows(1))
	require.NoError(t, err)
	var got []int64
	for range 2 { // a second scan counts afresh
		got = got[:0]
		for rec, err := range r.Batches(context.Background()) {
			require.NoError(t, err)
			got = append(got, rec.Column(0).(*array.Int64).Int64Values()...)
		}
		require.Equal(t, []int64{1, 4, 9}, got)
		require.Equal(t, int64(3), r.(SkipCounter).Skipped())
	}
}

func TestCSVBatchSize(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("n\n")
	for i := range 25 {
		sb.WriteString(strings.Repeat("1", 1+i%3) + "\n")
	}
	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "/in.csv", []byte(sb.String()), 0o644))
	r, err := Open(fsys, "/in.csv", WithBatchSize(10))
	require.NoError(t, err)
	var sizes []int64
	for rec, err := range r.Batches(context.Background()) {
		require.NoError(t, err)
		sizes = append(sizes, rec.NumRows())
	}
	require.Equal(t, []int64{10, 10, 5}, sizes)
}

func TestCSVWriterGolden(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testSchema, WithOutputFormat(FormatCSV, CompressionNone))
	require.NoError(t, err)
	rec := makeBatch(memory.DefaultAllocator, 0, 6)
	defer rec.Release()
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	golden := "../testdata/csv/written.csv"
	if *update {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), buf.String())
}

func TestCSVRoundTripCompressed(t *testing.T) {
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for i := range 100 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append([]string{"plain", "with, comma", "with \"quote\"", "line\nbreak", " lead"}[i%5])
		if i%4 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(float64(i) / 3)
		}
	}
	want := b.NewRecordBatch()
	b.Release()
	defer want.Release()
	for _, name := range []string{"a.csv", "a.csv.gz", "a.csv.zst"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			w, err := Create(afero.NewOsFs(), path, schema)
			require.NoError(t, err)
			require.NoError(t, w.Write(want))
			require.NoError(t, w.Close())
			r, err := Open(afero.NewOsFs(), path)
			require.NoError(t, err)
			require.True(t, schema.Equal(r.Schema()), "%s", r.Schema())
			n := 0
			for got, err := range r.Batches(context.Background()) {
				require.NoError(t, err)
				requireBatchEqual(t, want, got)
				n++
			}
			require.Equal(t, 1, n)
			require.NoError(t, r.Close())
		})
	}
}

// csvAllTypes has one field of every type a CSV schema may name.
var csvAllTypes = arrow.NewSchema([]arrow.Field{
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
	{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
	{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "tsz", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "+02:00"}, Nullable: true},
}, nil)

const csvAllTypesHeader = "b,i8,i16,i32,i64,u8,u16,u32,u64,f32,f64,s,ls,bin,d,ts,tsz\n"

func TestCSVEveryType(t *testing.T) {
	in := csvAllTypesHeader +
		"TRUE,-128,-32768,-2147483648,-9223372036854775808,255,65535,4294967295,18446744073709551615,1.5,-2.25e3,x,y,raw,2024-02-29,2024-05-06T07:08:09.123Z,2024-05-06 07:08:09\n" +
		"0,127,32767,2147483647,9223372036854775807,0,0,0,0,0,0,,,,1970-01-01,2024-05-06,2024-05-06T07:08:09.5+01:00\n" +
		",,,,,,,,,,,,,,,,\n"
	schema, rows, err := readCSV(t, in, WithSchema(csvAllTypes))
	require.NoError(t, err)
	require.True(t, csvAllTypes.Equal(schema))
	require.Equal(t, [][]string{
		{"true", "-128", "-32768", "-2147483648", "-9223372036854775808", "255", "65535", "4294967295", "18446744073709551615", "1.5", "-2250", "x", "y", "cmF3", "2024-02-29", "2024-05-06T07:08:09.123Z", "2024-05-06T07:08:09+02:00"},
		{"false", "127", "32767", "2147483647", "9223372036854775807", "0", "0", "0", "0", "0", "0", "", "", "", "1970-01-01", "2024-05-06T00:00:00Z", "2024-05-06T08:08:09.5+02:00"},
		{"", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""},
	}, rows)
}

// TestCSVBadValueEveryType puts one value that does not fit in each typed
// column and checks the error names it; in permissive mode the row is
// dropped whole, however many columns before it were fine.
func TestCSVBadValueEveryType(t *testing.T) {
	good := []string{"true", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "s", "l", "b", "2024-01-02", "2024-01-02T03:04:05Z", "2024-01-02"}
	bad := map[string]string{
		"b": "yes", "i8": "128", "i16": "-32769", "i32": "2147483648", "i64": "1.0",
		"u8": "256", "u16": "-1", "u32": "4294967296", "u64": "18446744073709551616",
		"f32": "1e39", "f64": "one", "d": "2024-02-30", "ts": "yesterday", "tsz": "2024-01-02T25:00:00Z",
	}
	for col, f := range csvAllTypes.Fields() {
		v, ok := bad[f.Name]
		if !ok {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			row := append([]string(nil), good...)
			row[col] = v
			in := csvAllTypesHeader + strings.Join(good, ",") + "\n" + strings.Join(row, ",") + "\n" + strings.Join(good, ",") + "\n"
			_, rows, err := readCSV(t, in, WithSchema(csvAllTypes))
			require.ErrorIs(t, err, ErrSchema)
			pe, ok := errors.AsType[*PosError](err)
			require.True(t, ok, "%T %v", err, err)
			require.Equal(t, int64(3), pe.Line)
			require.Equal(t, int64(len(strings.Join(row[:col+1], ","))-len(v)+1), pe.Column, "1-based byte column of the bad value")
			require.Equal(t, f.Name, pe.ColumnName)
			require.ErrorContains(t, err, fmt.Sprintf("column %q: %q is not a valid %s", f.Name, v, f.Type))
			require.Len(t, rows, 0, "the batch holding the bad row is not yielded")

			_, rows, err = readCSV(t, in, WithSchema(csvAllTypes), WithPermissive(true))
			require.NoError(t, err)
			require.Len(t, rows, 2)
			require.Equal(t, rows[0], rows[1])
		})
	}
}
