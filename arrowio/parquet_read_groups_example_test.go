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

// Read the row groups of an open file one at a time, in an order of our
// choosing, without reopening it.
func ExampleParquetReader_ReadRowGroups() {
	fsys := afero.NewMemMapFs()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3, 4, 5}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	w, err := arrowio.Create(fsys, "/ids.parquet", schema, arrowio.WithRowGroupSize(2))
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

	r, err := arrowio.OpenParquet(fsys, "/ids.parquet")
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for _, g := range []int{2, 0, 1} {
		for batch, err := range r.ReadRowGroups(context.Background(), []int{g}) {
			if err != nil {
				panic(err)
			}
			fmt.Println("row group", g, batch.Column(0))
		}
	}
	// Output:
	// row group 2 [5]
	// row group 0 [1 2]
	// row group 1 [3 4]
}
