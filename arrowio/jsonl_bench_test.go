package arrowio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/spf13/afero"
)

// jsonlBenchRows lines of synthJSONL make about 65 MB.
const jsonlBenchRows = 50_000

var jsonlBenchData = sync.OnceValues(func() ([]byte, *arrow.Schema) {
	data := synthJSONL(jsonlBenchRows, 7)
	s, err := InferJSONLSchema(bytes.NewReader(data), WithInferRows(-1))
	if err != nil {
		panic(err)
	}
	return data, s
})

func BenchmarkJSONLDecode(b *testing.B) {
	data, schema := jsonlBenchData()
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "bench.jsonl", data, 0o644)
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			r, err := OpenJSONL(fsys, "bench.jsonl", WithSchema(schema), WithWorkers(workers))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			var rows int64
			cpu0 := cpuTime()
			for b.Loop() {
				rows = countRows(b, r)
			}
			if rows != jsonlBenchRows {
				b.Fatalf("decoded %d rows, want %d", rows, jsonlBenchRows)
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(rows)/sec, "rows/s")
			b.ReportMetric(float64(len(data))/1e6/sec/float64(workers), "MB/s/core")
			reportCPU(b, cpu0, int64(len(data)))
		})
	}
}

// BenchmarkJSONLDecodeInfer includes schema inference over the whole file.
func BenchmarkJSONLDecodeInfer(b *testing.B) {
	data, _ := jsonlBenchData()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := InferJSONLSchema(bytes.NewReader(data), WithInferRows(-1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONLBaselineStdlib decodes every line into map[string]any with
// encoding/json: the baseline to beat.
func BenchmarkJSONLBaselineStdlib(b *testing.B) {
	data, _ := jsonlBenchData()
	b.SetBytes(int64(len(data)))
	cpu0 := cpuTime()
	for b.Loop() {
		if n := stdlibLines(b, data); n != jsonlBenchRows {
			b.Fatalf("%d rows", n)
		}
	}
	reportCPU(b, cpu0, int64(len(data)))
	b.ReportMetric(float64(len(data))/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s/core")
}

// BenchmarkJSONLBaselineArrowGo decodes with arrow-go's array.JSONReader
// in chunks of 16384 rows. It reads only the first tenth of the data: its
// string unescaping (goccy/go-json token stream) is so slow on these
// escape-rich texts that the whole set takes minutes.
func BenchmarkJSONLBaselineArrowGo(b *testing.B) {
	full, schema := jsonlBenchData()
	const rowsRead = jsonlBenchRows / 10
	end := 0
	for range rowsRead {
		end += bytes.IndexByte(full[end:], '\n') + 1
	}
	data := full[:end]
	b.SetBytes(int64(len(data)))
	cpu0 := cpuTime()
	for b.Loop() {
		if rows := arrowGoRows(b, data, schema); rows != rowsRead {
			b.Fatalf("%d rows", rows)
		}
	}
	reportCPU(b, cpu0, int64(len(data)))
	b.ReportMetric(float64(len(data))/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s/core")
}

// BenchmarkJSONLEncode writes the decoded dataset back to JSON Lines;
// bytes are output bytes.
func BenchmarkJSONLEncode(b *testing.B) {
	data, schema := jsonlBenchData()
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "bench.jsonl", data, 0o644)
	r, err := OpenJSONL(fsys, "bench.jsonl", WithSchema(schema))
	if err != nil {
		b.Fatal(err)
	}
	batches := collect(b, r)
	defer releaseBatches(batches)
	var cw countWriter
	cpu0 := cpuTime()
	for b.Loop() {
		cw.n = 0
		w, err := NewWriter(&cw, schema, WithOutputFormat(FormatJSONL, CompressionNone))
		if err != nil {
			b.Fatal(err)
		}
		if err := writeAll(w, batches); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(cw.n)
	reportCPU(b, cpu0, cw.n)
	b.ReportMetric(float64(jsonlBenchRows)/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
}

// stdlibLines decodes every line of data into a map[string]any with
// encoding/json and returns the number of lines.
func stdlibLines(tb testing.TB, data []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var n int64
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return n
}

// arrowGoRows decodes data with arrow-go's array.JSONReader in chunks of
// 16384 rows and returns the number of rows.
func arrowGoRows(tb testing.TB, data []byte, schema *arrow.Schema) int64 {
	r := array.NewJSONReader(bytes.NewReader(data), schema, array.WithChunk(16384))
	defer r.Release()
	var n int64
	for r.Next() {
		n += r.RecordBatch().NumRows()
	}
	if err := r.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// BenchmarkJSONLPlain compares decoders on a fifth of the dataset size
// generated without the words that need JSON escapes, where arrow-go's
// reader is not slowed down by escape handling.
func BenchmarkJSONLPlain(b *testing.B) {
	data := synthJSONLWords(jsonlBenchRows/5, 8, synthPlainWords)
	schema, err := InferJSONLSchema(bytes.NewReader(data), WithInferRows(-1))
	if err != nil {
		b.Fatal(err)
	}
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "plain.jsonl", data, 0o644)
	run := func(b *testing.B, decode func() int64) {
		b.SetBytes(int64(len(data)))
		cpu0 := cpuTime()
		for b.Loop() {
			if n := decode(); n != jsonlBenchRows/5 {
				b.Fatalf("%d rows", n)
			}
		}
		reportCPU(b, cpu0, int64(len(data)))
	}
	b.Run("quiver-workers=1", func(b *testing.B) {
		r, err := OpenJSONL(fsys, "plain.jsonl", WithSchema(schema), WithWorkers(1))
		if err != nil {
			b.Fatal(err)
		}
		run(b, func() int64 { return countRows(b, r) })
	})
	b.Run("arrow-go", func(b *testing.B) {
		run(b, func() int64 { return arrowGoRows(b, data, schema) })
	})
	b.Run("encoding-json-map", func(b *testing.B) {
		run(b, func() int64 { return stdlibLines(b, data) })
	})
}
