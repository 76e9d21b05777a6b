package arrowio

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
)

// memFile writes content to a fresh in-memory filesystem.
func memFile(t testing.TB, name string, content []byte) afero.Fs {
	t.Helper()
	fsys := afero.NewMemMapFs()
	if err := afero.WriteFile(fsys, name, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return fsys
}

// decodeJSONL reads content as a JSON Lines file and returns the reader's
// schema, the rows as arrow's own JSON rendering (one object per line), and
// the first error. It checks that every allocation is released.
func decodeJSONL(t testing.TB, content string, opts ...ReadOption) (*arrow.Schema, string, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fsys := memFile(t, "in.jsonl", []byte(content))
	r, err := OpenJSONL(fsys, "in.jsonl", append([]ReadOption{WithAllocator(mem)}, opts...)...)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	var out bytes.Buffer
	for b, err := range r.Batches(context.Background()) {
		if err != nil {
			return r.Schema(), out.String(), err
		}
		if !b.Schema().Equal(r.Schema()) {
			t.Fatalf("batch schema %s differs from reader schema %s", b.Schema(), r.Schema())
		}
		if err := array.RecordToJSON(b, &out); err != nil {
			t.Fatal(err)
		}
	}
	return r.Schema(), out.String(), nil
}

// collect reads every batch of r, retained; the caller releases them.
func collect(t testing.TB, r Reader) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for b, err := range r.Batches(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		b.Retain()
		out = append(out, b)
	}
	return out
}

func releaseBatches(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

// newCheckedMem returns a checked allocator asserted empty at test end.
func newCheckedMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}
