package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"
)

func TestParseTypeRoundTrip(t *testing.T) {
	types := []arrow.DataType{
		arrow.Null, arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Uint64,
		arrow.FixedWidthTypes.Float16, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
		arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary,
		arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Date64,
		&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, &arrow.TimestampType{Unit: arrow.Nanosecond},
		&arrow.DurationType{Unit: arrow.Millisecond}, &arrow.Time32Type{Unit: arrow.Second}, &arrow.Time64Type{Unit: arrow.Nanosecond},
		&arrow.FixedSizeBinaryType{ByteWidth: 16},
		&arrow.Decimal128Type{Precision: 10, Scale: 2}, &arrow.Decimal256Type{Precision: 40, Scale: 5},
		arrow.ListOf(arrow.BinaryTypes.String), arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64),
		arrow.LargeListOf(arrow.PrimitiveTypes.Int8),
		arrow.FixedSizeListOf(16, arrow.PrimitiveTypes.Float32),
		arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32),
		arrow.StructOf(
			arrow.Field{Name: "a b", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "inner", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true}), Nullable: true}),
	}
	for _, want := range types {
		got, err := ParseType(want.String())
		require.NoError(t, err, want.String())
		require.True(t, arrow.TypeEqual(want, got, arrow.CheckMetadata()), "%s parsed as %s", want, got)
	}
	got, err := ParseType("string")
	require.NoError(t, err)
	require.Equal(t, arrow.BinaryTypes.String, got)
	for _, bad := range []string{"", "int65", "list<item: int64", "struct<a int64>", "timestamp[days]", "decimal(10)", "int64 trailing", "fixed_size_list<item: int8>"} {
		_, err := ParseType(bad)
		require.Error(t, err, bad)
	}
}

// TestParseTypeErrors pins the message of every kind of bad type string:
// the type, the offset where parsing stopped and what was wanted there.
func TestParseTypeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `type "": at offset 0: want a type name`},
		{"int65", `type "int65": unknown type "int65"`},
		{"list<item: int64", `type "list<item: int64": at offset 16: want ">"`},
		{"struct<a int64>", `type "struct<a int64>": at offset 15: want ": "`},
		{"timestamp[days]", `type "timestamp[days]": at offset 14: want a time unit s, ms, us or ns`},
		{"decimal(10)", `type "decimal(10)": at offset 10: want ", "`},
		{"int64 trailing", `type "int64 trailing": at offset 5: unexpected " trailing"`},
		{"fixed_size_list<item: int8>", `type "fixed_size_list<item: int8>": at offset 27: want "["`},
		{"map<utf8", `type "map<utf8": at offset 8: want ", "`},
		{"map<utf8, int8", `type "map<utf8, int8": at offset 14: want ">"`},
		{"struct<a: int8", `type "struct<a: int8": at offset 14: unterminated struct`},
		{"struct<a: int8, b", `type "struct<a: int8, b": at offset 17: want ": "`},
		{"timestamp[ms", `type "timestamp[ms": at offset 12: want "]"`},
		{"time32[x]", `type "time32[x]": at offset 8: want a time unit s, ms, us or ns`},
		{"fixed_size_binary[z]", `type "fixed_size_binary[z]": at offset 18: want a number`},
		{"fixed_size_binary[4", `type "fixed_size_binary[4": at offset 19: want "]"`},
		{"decimal(1, 2", `type "decimal(1, 2": at offset 12: want ")"`},
		{"decimal256(a, 2)", `type "decimal256(a, 2)": at offset 11: want a number`},
		// Sizes and precisions arrow-go would panic on or reject.
		{"fixed_size_list<item: int8>[0]", `type "fixed_size_list<item: int8>[0]": at offset 28: want a number of at least 1, not 0`},
		{"fixed_size_list<item: int8>[-1]", `type "fixed_size_list<item: int8>[-1]": at offset 28: want a number of at least 1, not -1`},
		{"fixed_size_list<item: int8>[99999999999]", `type "fixed_size_list<item: int8>[99999999999]": at offset 28: want a number`},
		{"fixed_size_binary[-1]", `type "fixed_size_binary[-1]": at offset 18: want a number of at least 0, not -1`},
		{"decimal(0, 2)", `type "decimal(0, 2)": at offset 8: want a number of at least 1, not 0`},
		{"decimal(100, 2)", `type "decimal(100, 2)": at offset 15: invalid: precision for DECIMAL128 must be between 1 and 38, got 100`},
		{"decimal256(99, 2)", `type "decimal256(99, 2)": at offset 17: invalid: precision for DECIMAL256 must be between 1 and 76, got 99`},
		{"list<>", `type "list<>": at offset 6: want ": "`},
		{"large_list<item: int8>x", `type "large_list<item: int8>x": at offset 22: unexpected "x"`},
		{"fixed_size_list<item: int8>[3", `type "fixed_size_list<item: int8>[3": at offset 29: want "]"`},
	} {
		_, err := ParseType(tc.in)
		require.EqualError(t, err, tc.want, tc.in)
	}
	for _, ok := range []string{"duration[us]", "struct<>", "map<utf8, int8, items_nullable>"} {
		_, err := ParseType(ok)
		require.NoError(t, err, ok)
	}
}

func TestConvertWithSchemaFile(t *testing.T) {
	dir := t.TempDir()
	schema := filepath.Join(dir, "schema.json")
	code, out, stderr := run(t, "schema", "--json", fixture("small.jsonl"))
	require.Equal(t, ExitOK, code, stderr)
	// Read id as a string and score as float32 instead of the inferred types.
	edited := []byte(`[{"name":"id","type":"utf8","nullable":true},{"name":"score","type":"float32","nullable":true}]`)
	require.NotEmpty(t, out)
	require.NoError(t, os.WriteFile(schema, edited, 0o644))

	pq := filepath.Join(dir, "out.parquet")
	code, _, stderr = run(t, "convert", "--schema", schema, fixture("small.jsonl"), pq)
	require.Equal(t, ExitOK, code, stderr)
	code, out, _ = run(t, "schema", pq)
	require.Equal(t, ExitOK, code)
	require.Equal(t, "id: utf8\nscore: float32\n", out)

	// A data file's schema serves too.
	code, _, stderr = run(t, "convert", "--schema", pq, fixture("more.jsonl"), "-")
	require.Equal(t, ExitOK, code, stderr)

	require.NoError(t, os.WriteFile(schema, []byte(`[{"name":"id","type":"int65"}]`), 0o644))
	code, _, stderr = run(t, "convert", "--schema", schema, fixture("small.jsonl"), pq)
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, `"int65"`)
}
