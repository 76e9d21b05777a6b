package arrowio_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Test row types. Names carry a rows prefix: the arrowio_test package is
// shared with the other readers' tests.

type rowsMeta struct {
	Source string `quiver:"source"`
	Lang   string `quiver:"lang"`
	Len    int64  `quiver:"len"`
}

type rowsBase struct {
	ID   int64 `quiver:"id"`
	Note string
}

type rowsAll struct {
	rowsBase
	B      bool
	I      int
	I8     int8
	I16    int16
	I32    int32
	I64    int64
	U      uint
	U8     uint8
	U16    uint16
	U32    uint32
	U64    uint64
	F32    float32
	F64    float64
	S      string
	Bytes  []byte
	Fixed  [4]byte
	T      time.Time
	D      time.Duration
	Meta   rowsMeta           `quiver:"meta"`
	PMeta  *rowsMeta          `quiver:"pmeta"`
	PI     *int64             `quiver:"pi"`
	PPS    **string           `quiver:"pps"`
	Tags   []string           `quiver:"tags"`
	Ints   []int32            `quiver:"ints"`
	Nested [][]float64        `quiver:"nested"`
	Metas  []rowsMeta         `quiver:"metas"`
	PStrs  []*string          `quiver:"pstrs"`
	Emb    [3]float32         `quiver:"emb"`
	Words  [2]string          `quiver:"words"`
	M      map[string]int64   `quiver:"m"`
	MI     map[int32]*string  `quiver:"mi"`
	ML     map[uint8][]string `quiver:"ml"`
	Skip   string             `quiver:"-"`
	hidden int
}

func ptr[T any](v T) *T { return &v }

func rowsSample() []rowsAll {
	t0 := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	s := "x"
	ps := &s
	return []rowsAll{
		{
			rowsBase: rowsBase{ID: 1, Note: "first"},
			B:        true, I: -1, I8: math.MinInt8, I16: math.MaxInt16, I32: -32, I64: math.MaxInt64,
			U: 7, U8: 255, U16: 65535, U32: 1 << 31, U64: math.MaxUint64,
			F32: 1.5, F64: math.Pi, S: "héllo, 世界 🎉", Bytes: []byte{0, 1, 2},
			Fixed: [4]byte{1, 2, 3, 4}, T: t0, D: 90 * time.Second,
			Meta: rowsMeta{"web", "en", 12}, PMeta: &rowsMeta{"book", "fr", 3},
			PI: ptr(int64(42)), PPS: &ps,
			Tags: []string{"a", "b"}, Ints: []int32{1, 2, 3}, Nested: [][]float64{{1}, nil, {}},
			Metas: []rowsMeta{{"a", "b", 1}}, PStrs: []*string{ptr("p"), nil},
			Emb: [3]float32{0.1, 0.2, 0.3}, Words: [2]string{"x", "y"},
			M: map[string]int64{"z": 26, "a": 1}, MI: map[int32]*string{3: ptr("three"), -1: nil},
			ML: map[uint8][]string{1: {"one"}, 2: nil},
		},
		{
			// Zero values and nulls everywhere.
			rowsBase: rowsBase{ID: 2},
			Bytes:    []byte{}, Tags: []string{}, M: map[string]int64{},
		},
		{
			rowsBase: rowsBase{ID: 3, Note: "quote\" backslash\\ newline\n"},
			T:        time.UnixMicro(-1).UTC(), D: -time.Microsecond,
			Tags: nil, Ints: []int32{}, Emb: [3]float32{float32(math.Inf(1)), -0, 5},
		},
	}
}

func TestSchemaOf(t *testing.T) {
	s, err := arrowio.SchemaOf[rowsAll]()
	require.NoError(t, err)
	want := map[string]struct {
		typ      string
		nullable bool
	}{
		"id":     {"int64", false},
		"Note":   {"utf8", false},
		"I":      {"int64", false},
		"U8":     {"uint8", false},
		"Bytes":  {"binary", true},
		"Fixed":  {"fixed_size_binary[4]", false},
		"T":      {"timestamp[us, tz=UTC]", false},
		"D":      {"duration[ns]", false},
		"meta":   {"struct<source: utf8, lang: utf8, len: int64>", false},
		"pmeta":  {"struct<source: utf8, lang: utf8, len: int64>", true},
		"pi":     {"int64", true},
		"pps":    {"utf8", true},
		"tags":   {"list<item: utf8>", true},
		"nested": {"list<item: list<item: float64>, nullable>", true},
		"pstrs":  {"list<item: utf8, nullable>", true},
		"emb":    {"fixed_size_list<item: float32>[3]", false},
		"m":      {"map<utf8, int64, items_non_nullable>", true},
		"mi":     {"map<int32, utf8, items_nullable>", true},
	}
	for name, w := range want {
		idx := s.FieldIndices(name)
		if !assert.Len(t, idx, 1, "field %q", name) {
			continue
		}
		f := s.Field(idx[0])
		assert.Equal(t, w.typ, f.Type.String(), "field %q", name)
		assert.Equal(t, w.nullable, f.Nullable, "field %q nullable", name)
	}
	assert.Equal(t, "id", s.Field(0).Name, "promoted fields come first, in declaration order")
	assert.False(t, s.HasField("Skip"), `quiver:"-" skips`)
	assert.False(t, s.HasField("hidden"), "unexported fields are ignored")
	assert.False(t, s.HasField("rowsBase"), "embedded structs are flattened")
	assert.Equal(t, 34, s.NumFields())

	s2, err := arrowio.SchemaOf[rowsAll]()
	require.NoError(t, err)
	assert.Same(t, s, s2, "schemas are cached per type")
}

func TestRowsRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	rows := rowsSample()
	batch, err := arrowio.BatchFromRows(mem, rows)
	require.NoError(t, err)
	defer batch.Release()
	require.EqualValues(t, len(rows), batch.NumRows())
	for _, c := range batch.Columns() {
		if v, ok := c.(interface{ ValidateFull() error }); ok {
			require.NoError(t, v.ValidateFull(), "column %s", c.DataType())
		}
	}

	got, err := arrowio.AppendRows[rowsAll](nil, batch)
	require.NoError(t, err)
	want := rowsSample()
	for i := range want {
		want[i].Skip, want[i].hidden = "", 0
	}
	require.Equal(t, want, got)

	// Nulls and empties stay distinct.
	assert.Nil(t, got[2].Tags)
	assert.NotNil(t, got[1].Tags)
	assert.Nil(t, got[1].PMeta)
	assert.NotNil(t, got[1].M, "empty map is not null")
	assert.True(t, batch.Column(batch.Schema().FieldIndices("tags")[0]).IsNull(2))
}

// rowsRoundTrip encodes rows, decodes them back and compares.
func rowsRoundTrip[T any](t *testing.T, rows []T) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	batch, err := arrowio.BatchFromRows(mem, rows)
	require.NoError(t, err)
	defer batch.Release()
	got, err := arrowio.AppendRows[T](nil, batch)
	require.NoError(t, err)
	if len(rows) == 0 {
		require.Empty(t, got)
		return
	}
	require.Equal(t, rows, got)
}

type (
	rowsScalars struct {
		B   bool
		I8  int8
		U64 uint64
		F   float64
		S   string
	}
	rowsPtrs struct {
		P   *int32
		PP  **float64
		PS  *rowsScalars
		PA  *[2]int16
		PL  *[]string
		PM  *map[string]bool
		LPP []**string
	}
	rowsMaps struct {
		ByName map[string]rowsMeta
		ByID   map[int64][]float32
		Deep   map[string]map[string]*int8
	}
	rowsArrays struct {
		Emb   [16]float32
		Hash  [32]byte
		Pairs [2]rowsMeta
		Opt   [2]*string
		Grid  [2][3]uint16
	}
	rowsTimes struct {
		T  time.Time
		PT *time.Time
		D  time.Duration
		LT []time.Time
	}
	rowsNamed struct {
		Label rowsLabel
		Count rowsCount
	}
	rowsLabel string
	rowsCount uint16
)

func TestRowsRoundTripTypes(t *testing.T) {
	ts := time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)
	t.Run("scalars", func(t *testing.T) {
		rowsRoundTrip(t, []rowsScalars{{true, -8, math.MaxUint64, -0.25, ""}, {S: strings.Repeat("é", 1000)}})
	})
	t.Run("empty", func(t *testing.T) { rowsRoundTrip(t, []rowsScalars{}) })
	t.Run("pointers", func(t *testing.T) {
		f := 2.5
		pf := &f
		rowsRoundTrip(t, []rowsPtrs{
			{P: ptr(int32(-3)), PP: &pf, PS: &rowsScalars{S: "in"}, PA: &[2]int16{1, 2},
				PL: &[]string{"l"}, PM: &map[string]bool{"k": true}, LPP: []**string{nil, ptr(ptr("v"))}},
			{},
			{PL: &[]string{}, LPP: []**string{}},
		})
	})
	t.Run("maps", func(t *testing.T) {
		rowsRoundTrip(t, []rowsMaps{
			{ByName: map[string]rowsMeta{"a": {"s", "l", 1}}, ByID: map[int64][]float32{-5: {1, 2}, 9: nil},
				Deep: map[string]map[string]*int8{"x": {"y": ptr(int8(1)), "z": nil}, "n": nil}},
			{},
		})
	})
	t.Run("fixed arrays", func(t *testing.T) {
		var r rowsArrays
		for i := range r.Emb {
			r.Emb[i] = float32(i) / 3
		}
		for i := range r.Hash {
			r.Hash[i] = byte(255 - i)
		}
		r.Pairs = [2]rowsMeta{{"a", "b", 1}, {"c", "d", 2}}
		r.Opt = [2]*string{nil, ptr("o")}
		r.Grid = [2][3]uint16{{1, 2, 3}, {4, 5, 6}}
		rowsRoundTrip(t, []rowsArrays{r, {}, r})
	})
	t.Run("times", func(t *testing.T) {
		rowsRoundTrip(t, []rowsTimes{
			{T: ts, PT: &ts, D: 36 * time.Hour, LT: []time.Time{ts, {}}},
			{T: time.Time{}, D: math.MinInt64},
		})
	})
	t.Run("named types", func(t *testing.T) {
		rowsRoundTrip(t, []rowsNamed{{"cat", 3}, {"", 0}})
	})
}

func TestRowsTimeZones(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	local := time.Date(2025, 3, 9, 1, 30, 0, 999, ny) // nanoseconds are cut to µs
	batch, err := arrowio.BatchFromRows(nil, []rowsTimes{{T: local}})
	require.NoError(t, err)
	defer batch.Release()
	got, err := arrowio.AppendRows[rowsTimes](nil, batch)
	require.NoError(t, err)
	assert.True(t, got[0].T.Equal(local.Truncate(time.Microsecond)), "same instant")
	assert.Equal(t, time.UTC, got[0].T.Location(), "decoded times are UTC")
	assert.Equal(t, "2025-03-09 06:30:00 +0000 UTC", got[0].T.String())
}

// rowsBatch builds a one-batch record from columns given as arrays.
func rowsBatch(t *testing.T, names []string, cols ...arrow.Array) arrow.RecordBatch {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: names[i], Type: c.DataType(), Nullable: true}
	}
	n := int64(0)
	if len(cols) > 0 {
		n = int64(cols[0].Len())
	}
	b := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, n)
	for _, c := range cols {
		c.Release()
	}
	return b
}

func rowsFromJSON(t *testing.T, mem memory.Allocator, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(mem, dt, strings.NewReader(js))
	require.NoError(t, err)
	return arr
}

type rowsWide struct {
	I64 int64
	I32 int32
	F64 float64
	F32 float32
	U32 uint32
	S   string
	Bs  []byte
	T   time.Time
	D   time.Duration
	Emb [2]float32
	L   []int64
}

func TestAppendRowsConversions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	j := func(dt arrow.DataType, js string) arrow.Array { return rowsFromJSON(t, mem, dt, js) }

	dictB := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	require.NoError(t, dictB.AppendString("dict"))
	dictB.AppendNull()
	dict := dictB.NewArray()
	dictB.Release()

	// Columns in a different order, with different but compatible types,
	// names differing in case, one extra column.
	batch := rowsBatch(t,
		[]string{"extra", "s", "I64", "i32", "F64", "F32", "U32", "Bs", "T", "D", "Emb", "L"},
		j(arrow.BinaryTypes.String, `["ignored", "ignored"]`),
		dict,
		j(arrow.PrimitiveTypes.Int32, `[-7, null]`),
		j(arrow.PrimitiveTypes.Uint16, `[65535, 1]`),
		j(arrow.PrimitiveTypes.Float32, `[0.5, null]`),
		j(arrow.PrimitiveTypes.Int16, `[-300, 2]`),
		j(arrow.PrimitiveTypes.Uint8, `[200, 3]`),
		j(arrow.BinaryTypes.LargeString, `["bytes", null]`),
		j(&arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Europe/Paris"}, `[1000, null]`),
		j(&arrow.DurationType{Unit: arrow.Second}, `[3, null]`),
		j(arrow.ListOf(arrow.PrimitiveTypes.Float32), `[[1, 2], null]`),
		j(arrow.LargeListOf(arrow.PrimitiveTypes.Int8), `[[1, -1], null]`),
	)
	defer batch.Release()
	got, err := arrowio.AppendRows[rowsWide](nil, batch)
	require.NoError(t, err)
	require.Equal(t, []rowsWide{
		{I64: -7, I32: 65535, F64: 0.5, F32: -300, U32: 200, S: "dict", Bs: []byte("bytes"),
			T: time.UnixMilli(1000).UTC(), D: 3 * time.Second, Emb: [2]float32{1, 2}, L: []int64{1, -1}},
		{I32: 1, F32: 2, U32: 3}, // nulls become zero values
	}, got)
}

func TestAppendRowsDatesAndNullColumns(t *testing.T) {
	type floats struct {
		F32 float32
		F64 float64
	}
	fb := rowsBatch(t, []string{"F32", "F64"},
		rowsFromJSON(t, memory.DefaultAllocator, arrow.PrimitiveTypes.Float64, `[0.1, 1e300]`),
		rowsFromJSON(t, memory.DefaultAllocator, arrow.PrimitiveTypes.Int64, `[9007199254740993, -1]`))
	defer fb.Release()
	fgot, err := arrowio.AppendRows[floats](nil, fb)
	require.NoError(t, err)
	assert.Equal(t, []floats{{F32: 0.1, F64: 9007199254740992}, {F32: float32(math.Inf(1)), F64: -1}}, fgot,
		"numbers round to the nearest float, as Go conversions do")

	hb := rowsBatch(t, []string{"Hash"}, rowsFromJSON(t, memory.DefaultAllocator, arrow.BinaryTypes.Binary, `["AQIDBA==", null]`))
	defer hb.Release()
	hashes, err := arrowio.AppendRows[rowsNeedsHash](nil, hb)
	require.NoError(t, err)
	assert.Equal(t, []rowsNeedsHash{{Hash: [4]byte{1, 2, 3, 4}}, {}}, hashes, "binary of the right length fills [N]byte")

	type row struct {
		Day  time.Time
		Ms   time.Time
		Gone *string
		Zero int64
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	batch := rowsBatch(t, []string{"Day", "Ms", "Gone", "Zero"},
		rowsFromJSON(t, mem, arrow.FixedWidthTypes.Date32, `[19000, 0]`),
		rowsFromJSON(t, mem, arrow.FixedWidthTypes.Date64, `[86400000, 0]`),
		array.NewNull(2), array.NewNull(2))
	defer batch.Release()
	got, err := arrowio.AppendRows[row](nil, batch)
	require.NoError(t, err)
	assert.Equal(t, []row{
		{Day: time.Date(2022, 1, 8, 0, 0, 0, 0, time.UTC), Ms: time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)},
		{Day: time.Unix(0, 0).UTC(), Ms: time.Unix(0, 0).UTC()},
	}, got)
}

func TestAppendRowsSlicedBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := make([]rowsAll, 0, 10)
	for range 4 {
		rows = append(rows, rowsSample()...)
	}
	for i := range rows {
		rows[i].ID = int64(i)
		rows[i].Skip = ""
	}
	batch, err := arrowio.BatchFromRows(mem, rows)
	require.NoError(t, err)
	defer batch.Release()
	for _, r := range [][2]int64{{0, 12}, {1, 4}, {5, 11}, {7, 7}, {11, 12}} {
		t.Run(fmt.Sprint(r), func(t *testing.T) {
			sl := batch.NewSlice(r[0], r[1])
			defer sl.Release()
			got, err := arrowio.AppendRows[rowsAll](nil, sl)
			require.NoError(t, err)
			if r[0] == r[1] {
				require.Empty(t, got)
				return
			}
			require.Equal(t, rows[r[0]:r[1]], got)
		})
	}
}

func TestAppendRowsAppendsAndOwns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	type row struct {
		S string
		B []byte
		L []int64
	}
	batch, err := arrowio.BatchFromRows(mem, []row{{"ab", []byte("cd"), []int64{1}}, {"ef", []byte("gh"), []int64{2}}})
	require.NoError(t, err)
	dst := []row{{S: "kept"}}
	dst, err = arrowio.AppendRows(dst, batch)
	require.NoError(t, err)
	batch.Release() // decoded values must not depend on the batch
	require.Len(t, dst, 3)
	assert.Equal(t, "kept", dst[0].S)
	// Capacity is capped: appending to one row's slice leaves the next alone.
	dst[1].B = append(dst[1].B, 'X')
	dst[1].L = append(dst[1].L, 99)
	assert.Equal(t, []byte("gh"), dst[2].B)
	assert.Equal(t, []int64{2}, dst[2].L)
	assert.Equal(t, "ef", dst[2].S)

	// Reused capacity is cleared before decoding.
	batch2, err := arrowio.BatchFromRows(mem, []row{{S: "new"}})
	require.NoError(t, err)
	defer batch2.Release()
	again, err := arrowio.AppendRows(dst[:1], batch2)
	require.NoError(t, err)
	assert.Equal(t, []row{{S: "kept"}, {S: "new"}}, again)
}

type (
	rowsNeedsInt struct {
		Count int64 `quiver:"count"`
	}
	rowsNeedsMeta struct {
		Meta rowsMeta `quiver:"meta"`
	}
	rowsNeedsEmb struct {
		Emb [3]float32
	}
	rowsNeedsHash struct {
		Hash [4]byte
	}
	rowsNeedsI32 struct{ N int32 }
	rowsNeedsI64 struct{ N int64 }
	rowsNeedsU32 struct{ N uint32 }
)

func TestAppendRowsErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	j := func(dt arrow.DataType, js string) arrow.Array { return rowsFromJSON(t, mem, dt, js) }
	metaType := arrow.StructOf(arrow.Field{Name: "source", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "len", Type: arrow.PrimitiveTypes.Int64})

	tests := []struct {
		name    string
		batch   func() arrow.RecordBatch
		decode  func(arrow.RecordBatch) error
		field   string // Go field the error must name
		column  string // column the error must name
		message string
	}{
		{
			name:   "missing column",
			batch:  func() arrow.RecordBatch { return rowsBatch(t, []string{"other"}, j(arrow.PrimitiveTypes.Int64, `[1]`)) },
			decode: rowsDecodeAs[rowsNeedsInt],
			field:  "Count", column: "count", message: `no column "count"`,
		},
		{
			name:   "string into int",
			batch:  func() arrow.RecordBatch { return rowsBatch(t, []string{"count"}, j(arrow.BinaryTypes.String, `["1"]`)) },
			decode: rowsDecodeAs[rowsNeedsInt],
			field:  "Count", column: "count", message: "column type utf8 does not fit Go type int64",
		},
		{
			name: "missing nested field",
			batch: func() arrow.RecordBatch {
				return rowsBatch(t, []string{"meta"}, j(metaType, `[{"source": "a", "len": 1}]`))
			},
			decode: rowsDecodeAs[rowsNeedsMeta],
			field:  "Meta.Lang", column: "meta.lang", message: `no field "lang"`,
		},
		{
			name: "list length does not fit array",
			batch: func() arrow.RecordBatch {
				return rowsBatch(t, []string{"Emb"}, j(arrow.ListOf(arrow.PrimitiveTypes.Float32), `[[1,2,3],[1,2]]`))
			},
			decode: rowsDecodeAs[rowsNeedsEmb],
			field:  "Emb", column: "Emb", message: "row 1 holds 2 values",
		},
		{
			name: "fixed size list of other length",
			batch: func() arrow.RecordBatch {
				return rowsBatch(t, []string{"Emb"}, j(arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float32), `[[1,2]]`))
			},
			decode: rowsDecodeAs[rowsNeedsEmb],
			field:  "Emb", column: "Emb", message: "fixed_size_list",
		},
		{
			name: "fixed size binary of other width",
			batch: func() arrow.RecordBatch {
				return rowsBatch(t, []string{"Hash"}, j(&arrow.FixedSizeBinaryType{ByteWidth: 3}, `["AAAA"]`))
			},
			decode: rowsDecodeAs[rowsNeedsHash],
			field:  "Hash", column: "Hash", message: "fixed_size_binary[3]",
		},
		{
			name: "binary of other length into byte array",
			batch: func() arrow.RecordBatch {
				return rowsBatch(t, []string{"Hash"}, j(arrow.BinaryTypes.Binary, `["AAAAAA==", null, "AAAA"]`))
			},
			decode: rowsDecodeAs[rowsNeedsHash],
			field:  "Hash", column: "Hash", message: "row 2 holds 3 bytes",
		},
		{
			name:   "int64 does not narrow to int32",
			batch:  func() arrow.RecordBatch { return rowsBatch(t, []string{"N"}, j(arrow.PrimitiveTypes.Int64, `[1]`)) },
			decode: rowsDecodeAs[rowsNeedsI32],
			field:  "N", column: "N", message: "int64",
		},
		{
			name:   "uint64 does not fit int64",
			batch:  func() arrow.RecordBatch { return rowsBatch(t, []string{"N"}, j(arrow.PrimitiveTypes.Uint64, `[1]`)) },
			decode: rowsDecodeAs[rowsNeedsI64],
			field:  "N", column: "N", message: "uint64",
		},
		{
			name:   "signed does not fit unsigned",
			batch:  func() arrow.RecordBatch { return rowsBatch(t, []string{"N"}, j(arrow.PrimitiveTypes.Int8, `[1]`)) },
			decode: rowsDecodeAs[rowsNeedsU32],
			field:  "N", column: "N", message: "int8",
		},
		{
			name: "list element of wrong type",
			batch: func() arrow.RecordBatch {
				return rowsBatch(t, []string{"tags"}, j(arrow.ListOf(arrow.PrimitiveTypes.Int64), `[[1]]`))
			},
			decode: rowsDecodeAs[struct {
				Tags []string `quiver:"tags"`
			}],
			field: "Tags[]", column: "tags[]", message: "int64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := tt.batch()
			defer batch.Release()
			err := tt.decode(batch)
			require.Error(t, err)
			assert.ErrorIs(t, err, arrowio.ErrSchema)
			fe, ok := errors.AsType[*arrowio.FieldError](err)
			require.True(t, ok, "error %v is a *FieldError", err)
			assert.Equal(t, tt.field, fe.Field)
			assert.Equal(t, tt.column, fe.Column)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func rowsDecodeAs[T any](b arrow.RecordBatch) error {
	dst := []T{}
	out, err := arrowio.AppendRows(dst, b)
	if err != nil && len(out) != 0 {
		return fmt.Errorf("rows appended despite error %w", err)
	}
	return err
}

type (
	rowsBadChan      struct{ C chan int }
	rowsBadIface     struct{ V any }
	rowsBadMapKey    struct{ M map[float64]int }
	rowsBadRecursive struct {
		Name     string
		Children []rowsBadRecursive
	}
	rowsBadEmbedPtr struct {
		*RowsMeta2
	}
	RowsMeta2 struct{ X int }
)

func TestSchemaOfUnsupported(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		field string
	}{
		{"chan", rowsSchemaErr[rowsBadChan](), "C"},
		{"interface", rowsSchemaErr[rowsBadIface](), "V"},
		{"float map key", rowsSchemaErr[rowsBadMapKey](), "M"},
		{"recursive", rowsSchemaErr[rowsBadRecursive](), "Children[]"},
		{"embedded pointer", rowsSchemaErr[rowsBadEmbedPtr](), "RowsMeta2"},
		{"not a struct", rowsSchemaErr[int](), ""},
		{"time is not a row", rowsSchemaErr[time.Time](), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.err, arrowio.ErrUnsupported)
			fe, ok := errors.AsType[*arrowio.FieldError](tt.err)
			require.True(t, ok)
			assert.Equal(t, tt.field, fe.Field)
		})
	}
	// Every entry point reports the same error.
	_, err := arrowio.NewRowBuilder[rowsBadChan](nil)
	assert.ErrorIs(t, err, arrowio.ErrUnsupported)
	_, err = arrowio.BatchFromRows(nil, []rowsBadChan{{}})
	assert.ErrorIs(t, err, arrowio.ErrUnsupported)
}

func rowsSchemaErr[T any]() error {
	_, err := arrowio.SchemaOf[T]()
	return err
}

type (
	rowsEmbA struct {
		X    int
		Y    int `quiver:"y"`
		Both int
	}
	rowsEmbB struct {
		X    int
		Z    int
		Both int `quiver:"Both"`
	}
	rowsEmbC struct {
		Deep string
	}
	rowsEmbMid struct {
		rowsEmbC
		Z string
	}
	rowsEmbOuter struct {
		rowsEmbA
		rowsEmbB
		rowsEmbMid
		Y     string   // shallower than rowsEmbA.Y ("y") — a different name
		Named rowsEmbC `quiver:"named"` // tagged embedded-like field stays a struct
	}
)

func TestSchemaOfEmbedded(t *testing.T) {
	s, err := arrowio.SchemaOf[rowsEmbOuter]()
	require.NoError(t, err)
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name+":"+f.Type.String())
	}
	// X is untagged in both rowsEmbA and rowsEmbB at depth 1: dropped. Both
	// is tagged only in rowsEmbB: that one wins. Z is untagged at depth 1 in
	// rowsEmbB and rowsEmbMid: dropped. Deep is promoted from depth 2.
	assert.Equal(t, []string{"y:int64", "Both:int64", "Deep:utf8", "Y:utf8", "named:struct<Deep: utf8>"}, names)

	rowsRoundTrip(t, []rowsEmbOuter{{
		rowsEmbA:   rowsEmbA{Y: 1},
		rowsEmbB:   rowsEmbB{Both: 2},
		rowsEmbMid: rowsEmbMid{rowsEmbC: rowsEmbC{Deep: "d"}},
		Y:          "y", Named: rowsEmbC{"n"},
	}})
}

func TestRowBuilderStreams(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b, err := arrowio.NewRowBuilder[rowsAll](mem)
	require.NoError(t, err)
	defer b.Release()
	want, _ := arrowio.SchemaOf[rowsAll]()
	assert.True(t, want.Equal(b.Schema()))

	var all []rowsAll
	var decoded []rowsAll
	for round := range 3 {
		for i, r := range rowsSample() {
			r.ID = int64(round*10 + i)
			r.Skip = ""
			require.NoError(t, b.Append(r))
			all = append(all, r)
		}
		assert.Equal(t, 3, b.NumRows())
		batch := b.NewBatch()
		assert.Equal(t, 0, b.NumRows())
		assert.EqualValues(t, 3, batch.NumRows())
		decoded, err = arrowio.AppendRows(decoded, batch)
		batch.Release()
		require.NoError(t, err)
	}
	assert.Equal(t, all, decoded)

	empty := b.NewBatch()
	assert.EqualValues(t, 0, empty.NumRows())
	empty.Release()

	b.Release()
	b.Release()
	assert.Error(t, b.Append(rowsAll{}), "Append after Release fails")
}

func TestBatchFromRowsDeterministicMaps(t *testing.T) {
	m := map[string]int64{}
	for i := range 50 {
		m[fmt.Sprint("k", i)] = int64(i)
	}
	type row struct{ M map[string]int64 }
	first, err := arrowio.BatchFromRows(nil, []row{{m}})
	require.NoError(t, err)
	defer first.Release()
	for range 5 {
		again, err := arrowio.BatchFromRows(nil, []row{{m}})
		require.NoError(t, err)
		assert.True(t, array.RecordEqual(first, again), "map entries are written in key order")
		again.Release()
	}
}

// rowsBench is the shape of a typical text dataset row.
type rowsBench struct {
	ID    int64       `quiver:"id"`
	Text  string      `quiver:"text"`
	Label *string     `quiver:"label"`
	Score *float64    `quiver:"score"`
	Tags  []string    `quiver:"tags"`
	Meta  rowsMeta    `quiver:"meta"`
	Emb   [16]float32 `quiver:"embedding"`
}

func rowsBenchData(n int) []rowsBench {
	labels := []string{"news", "code", "chat", "law"}
	rows := make([]rowsBench, n)
	for i := range rows {
		r := &rows[i]
		r.ID = int64(i)
		r.Text = strings.Repeat("lorem ipsum ", 10+i%20)
		if i%20 != 0 {
			r.Label = &labels[i%4]
			s := float64(i) / 7
			r.Score = &s
			r.Tags = []string{"a", "bb", "ccc"}[:i%4]
		}
		r.Meta = rowsMeta{"web", "en", int64(len(r.Text))}
		for k := range r.Emb {
			r.Emb[k] = float32(i + k)
		}
	}
	return rows
}

func BenchmarkAppendRows(b *testing.B) {
	benchAppendRows(b, rowsBenchData(64*1024))
}

// benchAppendRows measures AppendRows decoding a batch made from rows back
// into a []T; MB/s counts the batch's Arrow bytes.
func benchAppendRows[T any](b *testing.B, rows []T) {
	batch, err := arrowio.BatchFromRows(nil, rows)
	require.NoError(b, err)
	defer batch.Release()
	var size int64
	for _, c := range batch.Columns() {
		size += int64(c.Data().SizeInBytes())
	}
	b.SetBytes(size)
	var dst []T
	for b.Loop() {
		dst, err = arrowio.AppendRows(dst[:0], batch)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkBatchFromRows(b *testing.B) {
	const n = 64 * 1024
	rows := rowsBenchData(n)
	rb, err := arrowio.NewRowBuilder[rowsBench](nil)
	require.NoError(b, err)
	defer rb.Release()
	for b.Loop() {
		if err := rb.AppendRows(rows); err != nil {
			b.Fatal(err)
		}
		rb.NewBatch().Release()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// rowsNumeric has no strings: it measures the decoding machinery itself
// rather than the copy of text bytes.
type rowsNumeric struct {
	ID    int64       `quiver:"id"`
	Label int32       `quiver:"label"`
	Score *float64    `quiver:"score"`
	Emb   [16]float32 `quiver:"embedding"`
	Meta  struct {
		Len int64 `quiver:"len"`
	} `quiver:"meta"`
}

func BenchmarkAppendRowsNumeric(b *testing.B) {
	const n = 64 * 1024
	rows := make([]rowsNumeric, n)
	for i := range rows {
		rows[i].ID, rows[i].Label = int64(i), int32(i%8)
		if i%20 != 0 {
			s := float64(i)
			rows[i].Score = &s
		}
		rows[i].Emb[i%16] = 1
		rows[i].Meta.Len = int64(i)
	}
	benchAppendRows(b, rows)
}

// TestRowsConcurrent runs the cached type mapping from many goroutines; run
// it under -race.
func TestRowsConcurrent(t *testing.T) {
	type fresh struct {
		A int64
		B []string
		C map[string]*float32
	}
	rows := []fresh{{A: 1, B: []string{"x"}, C: map[string]*float32{"k": ptr(float32(1))}}, {}}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			batch, err := arrowio.BatchFromRows(nil, rows)
			if err != nil {
				errs <- err
				return
			}
			defer batch.Release()
			got, err := arrowio.AppendRows[fresh](nil, batch)
			if err == nil && (len(got) != 2 || got[0].A != 1 || *got[0].C["k"] != 1) {
				err = fmt.Errorf("got %+v", got)
			}
			errs <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
}

func TestAppendRowsCorruptBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// A list whose offsets run past its values: arrow-go builds it without
	// complaint, decoding must fail cleanly.
	values := rowsFromJSON(t, mem, arrow.PrimitiveTypes.Int64, `[1, 2]`)
	defer values.Release()
	offsets := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 1, 5}))
	data := array.NewData(arrow.ListOf(arrow.PrimitiveTypes.Int64), 2,
		[]*memory.Buffer{nil, offsets}, []arrow.ArrayData{values.Data()}, 0, 0)
	list := array.MakeFromData(data)
	data.Release()
	batch := rowsBatch(t, []string{"L"}, list)
	defer batch.Release()

	type row struct{ L []int64 }
	got, err := arrowio.AppendRows([]row{{L: []int64{9}}}, batch)
	require.ErrorIs(t, err, arrowio.ErrCorrupt)
	assert.Len(t, got, 1, "dst comes back unchanged")
	assert.Contains(t, err.Error(), `column "L"`)

	type fixed struct{ L [2]int64 }
	_, err = arrowio.AppendRows[fixed](nil, batch)
	require.ErrorIs(t, err, arrowio.ErrSchema, "list lengths that do not fit are reported, not read")

	// Equal lengths, but past the values.
	offsets2 := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 2, 4}))
	data2 := array.NewData(arrow.ListOf(arrow.PrimitiveTypes.Int64), 2,
		[]*memory.Buffer{nil, offsets2}, []arrow.ArrayData{values.Data()}, 0, 0)
	batch2 := rowsBatch(t, []string{"L"}, array.MakeFromData(data2))
	data2.Release()
	defer batch2.Release()
	_, err = arrowio.AppendRows[fixed](nil, batch2)
	require.ErrorIs(t, err, arrowio.ErrCorrupt)
}

func TestAppendRowsOptional(t *testing.T) {
	type inner struct {
		Source string `quiver:"source"`
		Extra  int64  `quiver:"extra,optional"`
	}
	type row struct {
		ID    int64   `quiver:"id"`
		Maybe *string `quiver:",optional"`
		Meta  inner   `quiver:"meta"`
		Later []int64 `quiver:"later,optional"`
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	metaType := arrow.StructOf(arrow.Field{Name: "source", Type: arrow.BinaryTypes.String})
	batch := rowsBatch(t, []string{"id", "meta"},
		rowsFromJSON(t, mem, arrow.PrimitiveTypes.Int64, `[1, 2]`),
		rowsFromJSON(t, mem, metaType, `[{"source": "a"}, {"source": "b"}]`))
	defer batch.Release()
	got, err := arrowio.AppendRows[row](nil, batch)
	require.NoError(t, err)
	assert.Equal(t, []row{{ID: 1, Meta: inner{Source: "a"}}, {ID: 2, Meta: inner{Source: "b"}}}, got)

	// Present optional columns are read, and type-checked, as usual.
	withMaybe := rowsBatch(t, []string{"id", "meta", "Maybe"},
		rowsFromJSON(t, mem, arrow.PrimitiveTypes.Int64, `[1]`),
		rowsFromJSON(t, mem, metaType, `[{"source": "a"}]`),
		rowsFromJSON(t, mem, arrow.BinaryTypes.String, `["here"]`))
	defer withMaybe.Release()
	got, err = arrowio.AppendRows[row](nil, withMaybe)
	require.NoError(t, err)
	assert.Equal(t, "here", *got[0].Maybe)

	// The schema is unchanged by the option.
	s, err := arrowio.SchemaOf[row]()
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "Maybe", "meta", "later"}, rowsFieldNames(s))
}

func rowsFieldNames(s *arrow.Schema) []string {
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name)
	}
	return names
}

type rowsFuzz struct {
	I    int64
	U    uint16
	F    float64
	S    string
	B    []byte
	P    *string
	L    []string
	M    map[string]int32
	A    [2]int8
	Next *rowsFuzzInner
}

type rowsFuzzInner struct {
	S string
	L [][]byte
}

// FuzzRowsRoundTrip checks that whatever values a row holds, encoding then
// decoding gives them back, including after slicing the batch.
func FuzzRowsRoundTrip(f *testing.F) {
	f.Add(int64(0), uint16(0), 0.0, "", []byte(nil), false, uint8(0))
	f.Add(int64(-1), uint16(65535), -1.5, "héllo\x00\"", []byte{0, 255}, true, uint8(3))
	f.Add(int64(math.MinInt64), uint16(7), math.Inf(-1), "\xff invalid utf8", []byte{}, true, uint8(200))
	f.Fuzz(func(t *testing.T, i int64, u uint16, fl float64, s string, b []byte, ptrSet bool, n uint8) {
		if math.IsNaN(fl) {
			fl = 0 // NaN != NaN would fail the comparison, not the code
		}
		var rows []rowsFuzz
		for k := range int(n%7) + 1 {
			r := rowsFuzz{I: i + int64(k), U: u, F: fl, S: s[:min(len(s), k*3)], B: b}
			if ptrSet && k%2 == 0 {
				r.P = &s
				r.Next = &rowsFuzzInner{S: s, L: [][]byte{b, nil}}
			}
			if k%3 != 1 {
				r.L = strings.Fields(s)
				if r.L == nil {
					r.L = []string{}
				}
				r.M = map[string]int32{s: int32(k), "k": int32(u)}
			}
			r.A = [2]int8{int8(i), int8(k)}
			rows = append(rows, r)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		batch, err := arrowio.BatchFromRows(mem, rows)
		require.NoError(t, err)
		defer batch.Release()
		got, err := arrowio.AppendRows[rowsFuzz](nil, batch)
		require.NoError(t, err)
		require.Equal(t, rows, got)
		if len(rows) > 2 {
			sl := batch.NewSlice(1, int64(len(rows)-1))
			defer sl.Release()
			got, err = arrowio.AppendRows[rowsFuzz](nil, sl)
			require.NoError(t, err)
			require.Equal(t, rows[1:len(rows)-1], got)
		}
	})
}
