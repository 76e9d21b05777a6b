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
