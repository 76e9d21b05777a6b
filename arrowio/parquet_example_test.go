package arrowio_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
)

// Write a Parquet file, look at its footer, then read one column back.
func ExampleOpenParquet() {
	fsys := afero.NewMemMapFs()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "text", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b", "c"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()

	w, err := arrowio.Create(fsys, "/data.parquet", schema, arrowio.WithRowGroupSize(2))
	if err != nil {
		panic(err)
	}
	defer w.Abort()
	if err := w.Write(rec); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	r, err := arrowio.OpenParquet(fsys, "/data.parquet", arrowio.WithColumns("text"))
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for _, g := range r.RowGroups() {
		id := g.Columns[0]
		fmt.Printf("row group %d: %d rows, %s %s min=%v max=%v\n", g.Index, g.NumRows, id.Path, id.Codec, id.Stats.Min, id.Stats.Max)
	}
	for batch, err := range r.Batches(context.Background()) {
		if err != nil {
			panic(err)
		}
		fmt.Println(batch.Column(0))
	}
	// Output:
	// row group 0: 2 rows, id ZSTD min=1 max=2
	// row group 1: 1 rows, id ZSTD min=3 max=3
	// ["a" "b"]
	// ["c"]
}
