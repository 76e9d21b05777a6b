package datagen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.jsonl and testdata/rows/datagen_schema.golden")

// SampleConfig is what testdata/sample.jsonl is generated from.
var sampleConfig = Config{Seed: 1, Rows: 1000}

func jsonl(t testing.TB, cfg Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := WriteJSONL(&buf, cfg)
	require.NoError(t, err)
	if cfg.Rows > 0 {
		require.Equal(t, cfg.Rows, n)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	a := jsonl(t, Config{Seed: 42, Rows: 500})
	b := jsonl(t, Config{Seed: 42, Rows: 500})
	require.Equal(t, a, b, "same seed, same bytes")
	c := jsonl(t, Config{Seed: 43, Rows: 500})
	assert.NotEqual(t, a, c, "another seed, other rows")
	// A prefix of rows does not depend on how many rows are asked for.
	short := jsonl(t, Config{Seed: 42, Rows: 100})
	assert.True(t, bytes.HasPrefix(a, short))
}

// TestSampleGolden pins the generator: any change to the draws changes the
// committed sample. Run with -update to accept a deliberate change.
func TestSampleGolden(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "sample.jsonl")
	got := jsonl(t, sampleConfig)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "generator output differs from %s; rerun with -update if intended", path)
	assert.Less(t, len(got), 1<<20, "the bundled sample stays under 1 MiB")
}

// TestSchemaGolden pins the Arrow schema of the dataset, which other
// packages' tests and benchmarks rely on.
func TestSchemaGolden(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "rows", "datagen_schema.golden")
	got := Schema().String() + "\n"
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

func TestJSONLMatchesRows(t *testing.T) {
	cfg := Config{Seed: 7, Rows: 3000}
	data := jsonl(t, cfg)
	want := slices.Collect(Rows(cfg))
	require.Len(t, want, int(cfg.Rows))

	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	var got []Row
	for sc.Scan() {
		line := sc.Bytes()
		require.True(t, json.Valid(line), "line %d is valid JSON: %s", len(got)+1, line)
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var r Row
		require.NoError(t, dec.Decode(&r), "line %d", len(got)+1)
		got = append(got, r)
	}
	require.NoError(t, sc.Err())
	require.Equal(t, want, got)

	// The hand-written JSON is what encoding/json would write, up to its
	// HTML escaping.
	for i, r := range want[:200] {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(r))
		line, _, _ := bytes.Cut(data[lineStart(data, i):], []byte("\n"))
		assert.JSONEq(t, buf.String(), string(line), "row %d", i)
	}
}

func lineStart(data []byte, i int) int {
	off := 0
	for range i {
		off += bytes.IndexByte(data[off:], '\n') + 1
	}
	return off
}

func TestBatchesMatchRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := Config{Seed: 3, Rows: 2500}
	var got []Row
	var sizes []int64
	for batch, err := range Batches(mem, cfg, 1000) {
		require.NoError(t, err)
		require.True(t, Schema().Equal(batch.Schema()))
		sizes = append(sizes, batch.NumRows())
		got, err = arrowio.AppendRows(got, batch)
		require.NoError(t, err)
	}
	assert.Equal(t, []int64{1000, 1000, 500}, sizes)
	require.Equal(t, slices.Collect(Rows(cfg)), got)

	// Stopping early releases everything too.
	for batch, err := range Batches(mem, cfg, 100) {
		require.NoError(t, err)
		require.EqualValues(t, 100, batch.NumRows())
		break
	}
	// A kept batch stays valid after the loop when retained.
	var kept arrow.RecordBatch
	for batch, err := range Batches(mem, Config{Seed: 3, Rows: 10}, 0) {
		require.NoError(t, err)
		batch.Retain()
		kept = batch
	}
	first, err := arrowio.AppendRows[Row](nil, kept)
	kept.Release()
	require.NoError(t, err)
	assert.Equal(t, got[:10], first)
}

func TestSizeTarget(t *testing.T) {
	targets := []int64{100_000, 1_000_000, 4_000_000}
	if testing.Short() {
		targets = targets[:2]
	}
	for _, target := range targets {
		cfg := Config{Seed: 9, Bytes: target}
		var cw countWriter
		n, err := WriteJSONL(&cw, cfg)
		require.NoError(t, err)
		assert.LessOrEqual(t, cw.n, target)
		assert.GreaterOrEqual(t, cw.n, target*99/100, "within 1%% of %d", target)
		assert.Equal(t, n, int64(len(slices.Collect(Rows(cfg)))), "Rows stops at the same row")
		var bn int64
		for b, err := range Batches(nil, cfg, 4096) {
			require.NoError(t, err)
			bn += b.NumRows()
		}
		assert.Equal(t, n, bn, "Batches stops at the same row")
	}
	n, err := WriteJSONL(io.Discard, Config{})
	require.NoError(t, err)
	assert.Zero(t, n, "no rows and no bytes mean nothing")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func TestRowContents(t *testing.T) {
	const n = 20000
	var nullLabel, nullScore, nullTags, nonASCII, cjkOrEmoji, escapes int
	labelCount := map[string]int{}
	var id int64
	for r := range Rows(Config{Seed: 11, Rows: n}) {
		require.Equal(t, id, r.ID, "ids are sequential")
		id++
		chars := utf8.RuneCountInString(r.Text)
		require.True(t, chars >= MinTextChars && chars <= MaxTextChars, "row %d has %d chars", r.ID, chars)
		require.True(t, utf8.ValidString(r.Text))
		require.EqualValues(t, len(r.Text), r.Meta.Len)
		require.Contains(t, sources, r.Meta.Source)
		require.Contains(t, langs, r.Meta.Lang)
		if r.Label == nil {
			nullLabel++
		} else {
			labelCount[*r.Label]++
		}
		if r.Score == nil {
			nullScore++
		} else {
			require.True(t, *r.Score >= 0 && *r.Score <= 1)
		}
		if r.Tags == nil {
			nullTags++
		} else {
			require.LessOrEqual(t, len(r.Tags), 5)
			seen := map[string]bool{}
			for _, tag := range r.Tags {
				require.False(t, seen[tag], "tags are distinct")
				seen[tag] = true
			}
		}
		if strings.ContainsFunc(r.Text, func(c rune) bool { return c > 0x7f }) {
			nonASCII++
		}
		if strings.ContainsFunc(r.Text, func(c rune) bool { return c >= 0x3000 }) {
			cjkOrEmoji++
		}
		if strings.ContainsAny(r.Text, "\"\\\n\t") {
			escapes++
		}
	}
	require.EqualValues(t, n, id)
	for name, got := range map[string]int{"label": nullLabel, "score": nullScore, "tags": nullTags} {
		rate := float64(got) / n
		assert.InDelta(t, 0.05, rate, 0.01, "null rate of %s", name)
	}
	assert.Len(t, labelCount, 8, "all classes occur")
	assert.Greater(t, labelCount["sports"], labelCount["travel"]*3, "classes are unbalanced")
	assert.Greater(t, nonASCII, n/2, "most texts have non-ASCII characters")
	assert.Greater(t, cjkOrEmoji, n/10)
	assert.Greater(t, escapes, n/10, "many texts need JSON escapes")
}

func TestAppendEscaped(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\`, "\n\r\t\x00\x1f\x7f", "é世🎉", "</script>&"} {
		got := `"` + string(appendEscaped(nil, s)) + `"`
		var back string
		require.NoError(t, json.Unmarshal([]byte(got), &back), "%q", got)
		assert.Equal(t, s, back)
	}
}

type failWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errDiskFull
	}
	w.after--
	return len(p), nil
}

func TestWriteJSONLErrors(t *testing.T) {
	for _, after := range []int{0, 1} {
		_, err := WriteJSONL(&failWriter{after: after}, Config{Seed: 1, Rows: 5000})
		assert.ErrorIs(t, err, errDiskFull)
	}
	_, err := WriteJSONL(io.Discard, Config{Rows: -1})
	assert.Error(t, err)
	for _, err := range Batches(nil, Config{Bytes: -1}, 10) {
		assert.Error(t, err)
	}
	assert.Empty(t, slices.Collect(Rows(Config{Rows: -1})))
}

func BenchmarkWriteJSONL(b *testing.B) {
	const rows = 20000
	var cw countWriter
	_, err := WriteJSONL(&cw, Config{Seed: 1, Rows: rows})
	require.NoError(b, err)
	b.SetBytes(cw.n)
	for b.Loop() {
		if _, err := WriteJSONL(io.Discard, Config{Seed: 1, Rows: rows}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkBatches(b *testing.B) {
	const rows = 20000
	for b.Loop() {
		for _, err := range Batches(nil, Config{Seed: 1, Rows: rows}, 8192) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestSampleThroughArrowJSON reads the bundled sample with arrow-go's own
// JSON reader, into the types a JSON reader infers (embedding as
// list<float64>), and decodes the batches into Rows: the struct mapping's
// conversions cover what JSON readers produce.
func TestSampleThroughArrowJSON(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f, err := os.Open(filepath.Join("..", "..", "testdata", "sample.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "text", Type: arrow.BinaryTypes.String},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "meta", Type: arrow.StructOf(
			arrow.Field{Name: "source", Type: arrow.BinaryTypes.String},
			arrow.Field{Name: "lang", Type: arrow.BinaryTypes.String},
			arrow.Field{Name: "len", Type: arrow.PrimitiveTypes.Int64})},
		{Name: "embedding", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
	}, nil)
	rdr := array.NewJSONReader(f, schema, array.WithChunk(300), array.WithAllocator(mem))
	defer rdr.Release()
	var got []Row
	for rdr.Next() {
		got, err = arrowio.AppendRows(got, rdr.RecordBatch())
		require.NoError(t, err)
	}
	require.NoError(t, rdr.Err())
	require.Equal(t, slices.Collect(Rows(sampleConfig)), got)
}

// TestAppendDecimal checks that the JSON text of embeddings and scores
// parses back to exactly the float the rows hold.
func TestAppendDecimal(t *testing.T) {
	for _, tt := range []struct {
		q    int64
		d    int
		want string
	}{
		{0, 4, "0"}, {1190, 4, "0.119"}, {-5, 4, "-0.0005"}, {10000, 4, "1"},
		{-15001, 4, "-1.5001"}, {1_000_000, 6, "1"}, {123456, 6, "0.123456"}, {100, 6, "0.0001"},
	} {
		assert.Equal(t, tt.want, string(appendDecimal(nil, tt.q, tt.d)), "%d/10^%d", tt.q, tt.d)
	}
	for q := int64(-20000); q <= 20000; q++ {
		s := string(appendDecimal(nil, q, 4))
		v, err := strconv.ParseFloat(s, 32)
		require.NoError(t, err)
		require.Equal(t, float32(q)/1e4, float32(v), "%s", s)
	}
	for q := int64(0); q <= 1_000_000; q += 7 {
		s := string(appendDecimal(nil, q, 6))
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		require.Equal(t, float64(q)/1e6, v, "%s", s)
	}
}

// TestWorkersDoNotChangeOutput runs the parallel writer with several worker
// counts, by rows and by size, stopping mid-block and on block boundaries.
func TestWorkersDoNotChangeOutput(t *testing.T) {
	for _, cfg := range []Config{
		{Seed: 2, Rows: 1},
		{Seed: 2, Rows: BlockRows},
		{Seed: 2, Rows: 3*BlockRows + 17},
		{Seed: 2, Bytes: 2_500_000},
		{Seed: 2, Bytes: 1000},
	} {
		var ref []byte
		for _, workers := range []int{1, 2, 3, 8} {
			var buf bytes.Buffer
			n, err := writeJSONL(&buf, cfg, workers)
			require.NoError(t, err)
			assert.Equal(t, int64(bytes.Count(buf.Bytes(), []byte("\n"))), n)
			if ref == nil {
				ref = buf.Bytes()
				continue
			}
			require.True(t, bytes.Equal(ref, buf.Bytes()), "%+v with %d workers", cfg, workers)
		}
		if cfg.Rows > 0 {
			assert.Equal(t, cfg.Rows, int64(bytes.Count(ref, []byte("\n"))))
		}
	}
}

func TestParallelWriteError(t *testing.T) {
	for _, workers := range []int{2, 4} {
		n, err := writeJSONL(&failWriter{after: 2}, Config{Seed: 1, Bytes: 50_000_000}, workers)
		assert.ErrorIs(t, err, errDiskFull)
		assert.Less(t, n, int64(50_000))
	}
}
