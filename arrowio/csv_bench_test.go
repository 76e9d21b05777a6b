package arrowio

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
)

// BenchmarkCSVDecodeTyped reads 64K rows with a given schema of seven typed
// columns (int64, timestamp, date32, float64, int32, bool, string), where
// parsing the values, not splitting the fields, is most of the work. MB/s
// counts CSV bytes.
func BenchmarkCSVDecodeTyped(b *testing.B) {
	const rows = 64 << 10
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "at", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	var sb strings.Builder
	sb.WriteString("id,at,day,score,n,ok,label\n")
	t0 := time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)
	for i := range rows {
		t := t0.Add(time.Duration(i) * 1234567 * time.Microsecond)
		fmt.Fprintf(&sb, "%d,%s,%s,%g,%d,%t,%s\n", i, t.Format(time.RFC3339Nano), t.Format("2006-01-02"),
			float64(i)/7, i%1000-500, i%3 == 0, []string{"pos", "neg", "neutral"}[i%3])
	}
	fsys := afero.NewMemMapFs()
	if err := afero.WriteFile(fsys, "/bench.csv", []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	r, err := Open(fsys, "/bench.csv", WithSchema(schema))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		if n := countRows(b, r); n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
