package arrowio

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// decodeTemporal decodes the JSON value v into a one-row column of type dt
// and returns its raw integer (count of the type's unit) and whether it is
// null.
func decodeTemporal(t *testing.T, dt arrow.DataType, v string) (raw int64, null bool, err error) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: dt, Nullable: true}}, nil)
	fsys := memFile(t, "in.jsonl", []byte(`{"a":`+v+"}\n"))
	r, err := OpenJSONL(fsys, "in.jsonl", WithSchema(schema), WithAllocator(newCheckedMem(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for b, err := range r.Batches(context.Background()) {
		if err != nil {
			return 0, false, err
		}
		if b.NumRows() != 1 {
			t.Fatalf("%d rows", b.NumRows())
		}
		switch c := b.Column(0).(type) {
		case *array.Timestamp:
			raw = int64(c.Value(0))
		case *array.Date32:
			raw = int64(c.Value(0))
		case *array.Date64:
			raw = int64(c.Value(0))
		case *array.Time32:
			raw = int64(c.Value(0))
		case *array.Time64:
			raw = int64(c.Value(0))
		default:
			t.Fatalf("column %T", c)
		}
		null = b.Column(0).IsNull(0)
	}
	return raw, null, nil
}

func TestJSONLTemporal(t *testing.T) {
	tsS := &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}
	tsMs := arrow.FixedWidthTypes.Timestamp_ms
	tsUs := arrow.FixedWidthTypes.Timestamp_us
	tsNs := arrow.FixedWidthTypes.Timestamp_ns
	d32 := arrow.FixedWidthTypes.Date32
	d64 := arrow.FixedWidthTypes.Date64
	t32s := arrow.FixedWidthTypes.Time32s
	t32ms := arrow.FixedWidthTypes.Time32ms
	t64us := arrow.FixedWidthTypes.Time64us
	t64ns := arrow.FixedWidthTypes.Time64ns
	const noon = 1714566600 // 2024-05-01T12:30:00Z
	tests := []struct {
		dt   arrow.DataType
		in   string
		want int64
		null bool
		err  string // substring of the error; "" for none
	}{
		{dt: tsS, in: `"2024-05-01T12:30:00Z"`, want: noon},
		{dt: tsMs, in: `"2024-05-01T12:30:00.250Z"`, want: noon*1e3 + 250},
		{dt: tsUs, in: `"2024-05-01 14:30:00,5+02:00"`, want: noon*1e6 + 500000},
		{dt: tsNs, in: `"2024-05-01t12:30:00.123456789z"`, want: noon*1e9 + 123456789},
		{dt: tsS, in: `"2024-05-01T07:00:00-05:30"`, want: noon},
		{dt: tsS, in: `"2024-05-01T18:00:00+0530"`, want: noon},
		{dt: tsS, in: `"2024-05-01T14:30:00+02"`, want: noon},
		{dt: tsS, in: `"2024-05-01T12:30"`, want: noon},
		{dt: tsS, in: `"2024-05-01"`, want: noon - 45000},
		{dt: tsS, in: `"1969-12-31T23:59:59Z"`, want: -1},
		{dt: tsMs, in: `1714566600250`, want: noon*1e3 + 250},
		{dt: tsMs, in: `-1`, want: -1},
		{dt: tsMs, in: `null`, null: true},
		{dt: tsMs, in: `1.5`, err: "number 1.5 is not an integer timestamp[ms, tz=UTC]"},
		{dt: tsMs, in: `"2024-13-01"`, err: `"2024-13-01" is not an ISO-8601 date or time`},
		{dt: tsMs, in: `"2023-02-29"`, err: "is not an ISO-8601 date or time"},
		{dt: tsMs, in: `"2024-05-01T24:00:00Z"`, err: "is not an ISO-8601 date or time"},
		{dt: tsMs, in: `"2024-05-01T12:30:00."`, err: "is not an ISO-8601 date or time"},
		{dt: tsMs, in: `"2024-05-01T12:30:00+25:00"`, err: "is not an ISO-8601 date or time"},
		{dt: tsMs, in: `true`, err: "cannot convert bool to timestamp[ms, tz=UTC]"},
		{dt: d32, in: `"2024-02-29"`, want: 19782},
		{dt: d32, in: `"1969-12-31T23:00:00Z"`, want: -1},
		{dt: d32, in: `19000`, want: 19000},
		{dt: d32, in: `null`, null: true},
		{dt: d32, in: `2147483648`, err: "number 2147483648 is not a day count for date32"},
		{dt: d32, in: `"x"`, err: `"x" is not an ISO-8601 date`},
		{dt: d32, in: `[1]`, err: "cannot convert array to date32"},
		{dt: d64, in: `"1970-01-02"`, want: 86400000},
		{dt: d64, in: `"1970-01-01T00:00:01.5Z"`, want: 1500},
		{dt: d64, in: `86400000`, want: 86400000},
		{dt: d64, in: `2.5`, err: "number 2.5 is not an integer date64"},
		{dt: t32s, in: `"12:30:15"`, want: 45015},
		{dt: t32s, in: `"12:30"`, want: 45000},
		{dt: t32ms, in: `"12:30:15.5"`, want: 45015500},
		{dt: t64us, in: `"00:00:01.000001"`, want: 1000001},
		{dt: t64ns, in: `"23:59:60.999999999"`, want: 86400999999999},
		{dt: t32s, in: `86400`, want: 86400},
		{dt: t32ms, in: `null`, null: true},
		{dt: t32ms, in: `3000000000`, err: "number 3000000000 does not fit time32[ms]"},
		{dt: t32ms, in: `"12:3"`, err: `"12:3" is not a time of day`},
		{dt: t32ms, in: `"25:00"`, err: "is not a time of day"},
		{dt: t32ms, in: `"12:30:15,5"`, err: "is not a time of day"},
		{dt: t32ms, in: `"12:30:15."`, err: "is not a time of day"},
		{dt: t64ns, in: `{}`, err: "cannot convert object to time64[ns]"},
	}
	for _, tt := range tests {
		t.Run(tt.dt.String()+" "+tt.in, func(t *testing.T) {
			got, null, err := decodeTemporal(t, tt.dt, tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if null != tt.null || !null && got != tt.want {
				t.Fatalf("got %d (null %v), want %d (null %v)", got, null, tt.want, tt.null)
			}
		})
	}
}
