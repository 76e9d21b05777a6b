package arrowio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// checkJSONLFuzzErr fails unless err is a clean, positioned input error.
func checkJSONLFuzzErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	pe, ok := errors.AsType[*PosError](err)
	if !ok || pe.Line < 1 || pe.Column < 1 {
		t.Fatalf("error without a position: %v", err)
	}
	if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrSchema) {
		t.Fatalf("error wraps neither ErrSyntax nor ErrSchema: %v", err)
	}
}

// FuzzJSONLDecode decodes arbitrary input against a fixed schema covering
// every column decoder, with both worker counts and permissive on and off.
// It must never panic or leak, errors must carry a position, and results
// must not depend on the worker count.
func FuzzJSONLDecode(f *testing.F) {
	f.Add([]byte(`{"i":1,"f":2.5,"s":"x","b":true,"l":[1,2],"st":{"a":"y","n":[[1]]},"t":"2024-01-01T00:00:00Z","m":{"k":1},"e":[1,2],"bin":"aGk=","d":"1.5"}`))
	f.Add([]byte("{\"i\":-9223372036854775808}\n\n{\"s\":\"\\ud83d\\ude00\"}\r\n"))
	f.Add([]byte("\xEF\xBB\xBF{\"l\":[null,3]}\n[1]\n{\"i\":\"x\"}"))
	f.Add([]byte(`{"st":{"n":[[1,{}]]},"s":{"deep":[[[[]]]]}}`))
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "st", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "n", Type: arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Uint8)), Nullable: true}), Nullable: true},
		{Name: "t", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float32), Nullable: true},
		{Name: "e", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int16), Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 9, Scale: 3}, Nullable: true},
		{Name: "z", Type: arrow.Null, Nullable: true},
		{Name: "tod", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
		{Name: "h", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
		{Name: "d64", Type: arrow.FixedWidthTypes.Date64, Nullable: true},
		{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, permissive := range []bool{false, true} {
			var outs []string
			for _, workers := range []int{1, 3} {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				fsys := memFile(t, "f.jsonl", data)
				r, err := OpenJSONL(fsys, "f.jsonl", WithSchema(schema), WithWorkers(workers),
					WithPermissive(permissive), WithBatchSize(3), WithAllocator(mem))
				if err != nil {
					t.Fatal(err)
				}
				r.chunkSize = 64
				var out bytes.Buffer
				for b, err := range r.Batches(context.Background()) {
					if err != nil {
						checkJSONLFuzzErr(t, err)
						out.WriteString("error: " + err.Error())
						break
					}
					if err := checkBatch(b); err != nil {
						t.Fatalf("invalid batch: %v", err)
					}
					out.WriteString(b.Schema().String())
					for _, c := range b.Columns() {
						out.WriteString(c.String())
					}
				}
				mem.AssertSize(t, 0)
				outs = append(outs, out.String())
			}
			if outs[0] != outs[1] {
				t.Fatalf("output depends on worker count:\n%s\n%s", outs[0], outs[1])
			}
		}
	})
}

// FuzzInferSchema infers a schema from arbitrary input and, when inference
// accepts it, decodes the input with that schema: the decode must succeed
// or fail cleanly, never panic.
func FuzzInferSchema(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"a\":2.5,\"b\":[{\"c\":null}]}"))
	f.Add([]byte("{\"a\":\"x\"}\n{\"a\":{\"y\":[1,[2]]}}"))
	f.Add([]byte("{\"l\":[]}\n{\"l\":[[],[true,false]]}\n{\"o\":{}}"))
	f.Add([]byte("{\"k\\u0041\":1e400,\"n\":-0}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mixed := range []MixedTypes{MixedAsString, MixedError} {
			s, err := InferJSONLSchema(bytes.NewReader(data), WithMixedTypes(mixed), WithInferRows(-1))
			if err != nil {
				checkJSONLFuzzErr(t, err)
				continue
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			fsys := memFile(t, "f.jsonl", data)
			r, err := OpenJSONL(fsys, "f.jsonl", WithSchema(s), WithAllocator(mem))
			if err != nil {
				t.Fatalf("schema from inference rejected: %v", err)
			}
			var rows int64
			for b, err := range r.Batches(context.Background()) {
				if err != nil {
					// Inference saw the whole input and accepted it, so
					// decoding with its schema must succeed.
					t.Fatalf("decode of inferred input failed: %v", err)
				}
				if err := checkBatch(b); err != nil {
					t.Fatalf("invalid batch: %v", err)
				}
				rows += b.NumRows()
			}
			mem.AssertSize(t, 0)
		}
	})
}

// checkBatch checks the structure of a decoded batch.
func checkBatch(b arrow.RecordBatch) error {
	for i, c := range b.Columns() {
		if int64(c.Len()) != b.NumRows() {
			return fmt.Errorf("column %d has %d rows, batch %d", i, c.Len(), b.NumRows())
		}
		if v, ok := c.(interface{ ValidateFull() error }); ok {
			if err := v.ValidateFull(); err != nil {
				return err
			}
		}
		_ = c.String() // walks every value
	}
	return nil
}
