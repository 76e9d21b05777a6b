package arrowio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/spf13/afero"
)

// readBatches opens path with a small chunk size (to get many chunks) and
// returns every batch, retained.
func readBatches(t *testing.T, fsys afero.Fs, path string, chunkSize int, opts ...ReadOption) ([]arrow.RecordBatch, *JSONLReader) {
	t.Helper()
	r, err := OpenJSONL(fsys, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r.chunkSize = chunkSize
	bs := collect(t, r)
	r.Close()
	return bs, r
}

func sameBatches(t *testing.T, what string, a, b []arrow.RecordBatch) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d batches vs %d", what, len(a), len(b))
	}
	for i := range a {
		if !array.RecordEqual(a[i], b[i]) {
			t.Fatalf("%s: batch %d differs", what, i)
		}
	}
}

func TestJSONLWorkerInvariance(t *testing.T) {
	data := synthJSONL(600, 1)
	fsys := memFile(t, "d.jsonl", data)
	mem := newCheckedMem(t)
	base, _ := readBatches(t, fsys, "d.jsonl", 16<<10, WithWorkers(1), WithBatchSize(50), WithAllocator(mem))
	defer releaseBatches(base)
	var rows int64
	for _, b := range base {
		if b.NumRows() > 50 {
			t.Fatalf("batch of %d rows exceeds batch size 50", b.NumRows())
		}
		rows += b.NumRows()
	}
	if rows != 600 || len(base) < 20 {
		t.Fatalf("got %d rows in %d batches, want 600 rows in many batches", rows, len(base))
	}
	// The default Go allocator takes a copy-free path.
	gob, _ := readBatches(t, fsys, "d.jsonl", 16<<10, WithWorkers(2), WithBatchSize(50))
	sameBatches(t, "go allocator", base, gob)
	releaseBatches(gob)
	for _, w := range []int{2, 4, 7} {
		got, _ := readBatches(t, fsys, "d.jsonl", 16<<10, WithWorkers(w), WithBatchSize(50), WithAllocator(mem))
		sameBatches(t, fmt.Sprintf("workers %d", w), base, got)
		releaseBatches(got)
	}
}

func TestJSONLErrorInLaterChunk(t *testing.T) {
	data := synthJSONL(400, 2)
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines[300] = []byte("{\"id\":300,\"text\":\"oops\" \"label\":1}\n")
	fsys := memFile(t, "e.jsonl", bytes.Join(lines, nil))
	for _, w := range []int{1, 4} {
		mem := newCheckedMem(t)
		r, err := OpenJSONL(fsys, "e.jsonl", WithWorkers(w), WithAllocator(mem), WithInferRows(100))
		if err != nil {
			t.Fatal(err)
		}
		r.chunkSize = 8 << 10
		var rows int64
		var gotErr error
		for b, err := range r.Batches(context.Background()) {
			if err != nil {
				gotErr = err
				break
			}
			rows += b.NumRows()
		}
		pe, ok := errors.AsType[*PosError](gotErr)
		if !ok || pe.Line != 301 || pe.Column != 25 || !errors.Is(gotErr, ErrSyntax) {
			t.Fatalf("workers %d: got %v, want a syntax error at e.jsonl:301:25", w, gotErr)
		}
		if rows != 300 {
			t.Errorf("workers %d: %d rows before the error, want 300", w, rows)
		}
	}
}

func TestJSONLCompressedInputs(t *testing.T) {
	data := synthJSONL(300, 3)
	var gz, zs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	ze, _ := zstd.NewWriter(&zs)
	ze.Write(data)
	ze.Close()
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, "d.jsonl", data, 0o644)
	afero.WriteFile(fsys, "d.jsonl.gz", gz.Bytes(), 0o644)
	afero.WriteFile(fsys, "d.ndjson.zst", zs.Bytes(), 0o644)
	afero.WriteFile(fsys, "bad.jsonl.gz", gz.Bytes()[:gz.Len()/2], 0o644)
	mem := newCheckedMem(t)
	base, _ := readBatches(t, fsys, "d.jsonl", 32<<10, WithAllocator(mem))
	defer releaseBatches(base)
	for _, p := range []string{"d.jsonl.gz", "d.ndjson.zst"} {
		r, err := Open(fsys, p, WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		r.(*JSONLReader).chunkSize = 32 << 10
		got := collect(t, r)
		sameBatches(t, p, base, got)
		releaseBatches(got)
	}
	// A truncated gzip stream is a corrupt file, reported, not a panic.
	r, err := OpenJSONL(fsys, "bad.jsonl.gz", WithAllocator(mem), WithSchema(base[0].Schema()))
	if err != nil {
		t.Fatal(err)
	}
	var gotErr error
	for _, err := range r.Batches(context.Background()) {
		if err != nil {
			gotErr = err
		}
	}
	if !errors.Is(gotErr, ErrCorrupt) {
		t.Errorf("truncated gzip: got %v, want ErrCorrupt", gotErr)
	}
	// Not gzip at all, and not zstd at all.
	afero.WriteFile(fsys, "plain.jsonl.gz", data[:100], 0o644)
	afero.WriteFile(fsys, "plain.jsonl.zst", data[:100], 0o644)
	for _, p := range []string{"plain.jsonl.gz", "plain.jsonl.zst"} {
		if _, err := OpenJSONL(fsys, p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", p, err)
		}
	}
}

func TestJSONLEarlyStopAndCancel(t *testing.T) {
	data := synthJSONL(500, 4)
	fsys := memFile(t, "d.jsonl", data)
	mem := newCheckedMem(t)
	r, err := OpenJSONL(fsys, "d.jsonl", WithAllocator(mem), WithWorkers(3), WithBatchSize(10))
	if err != nil {
		t.Fatal(err)
	}
	r.chunkSize = 4 << 10
	n := 0
	for _, err := range r.Batches(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n = 0
	var gotErr error
	for _, err := range r.Batches(ctx) {
		if err != nil {
			gotErr = err
			break
		}
		if n++; n == 2 {
			cancel()
		}
	}
	if !errors.Is(gotErr, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", gotErr)
	}
	r.Close()
	for _, err := range r.Batches(context.Background()) {
		if err == nil {
			t.Error("Batches after Close yielded a batch")
		}
	}
}

func TestJSONLOpenErrors(t *testing.T) {
	fsys := memFile(t, "d.jsonl", []byte(`{"a":1}`))
	if _, err := OpenJSONL(fsys, "missing.jsonl"); err == nil {
		t.Error("missing file: no error")
	}
	if _, err := OpenJSONL(fsys, "d.jsonl", WithColumns("nope")); !errors.Is(err, ErrSchema) {
		t.Errorf("unknown column: got %v, want ErrSchema", err)
	}
	if _, err := OpenJSONL(fsys, "d.jsonl", WithColumns("a", "a")); !errors.Is(err, ErrSchema) {
		t.Errorf("repeated column: got %v, want ErrSchema", err)
	}
	dense := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.DenseUnionOf(nil, nil)}}, nil)
	if _, err := OpenJSONL(fsys, "d.jsonl", WithSchema(dense)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("union schema: got %v, want ErrUnsupported", err)
	}
	r, err := Open(fsys, "d.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := Count(context.Background(), r); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
	if _, ok := r.NumRows(); ok || r.Format() != FormatJSONL || r.Path() != "d.jsonl" {
		t.Error("reader metadata wrong")
	}
}
