package arrowio_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
)

// Write an Arrow IPC file, then open it memory-mapped and read a batch
// that outlives the file handle.
func ExampleOpenArrowFile() {
	dir, err := os.MkdirTemp("", "quiver-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "words.arrow")
	fsys := afero.NewOsFs()

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "word", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"arrow", "quiver", "bow"}, nil)
	rec := b.NewRecordBatch()
	b.Release()

	w, err := arrowio.Create(fsys, path, schema) // the .arrow extension picks the IPC file format
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		log.Fatal(err)
	}
	rec.Release()
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := arrowio.OpenArrowFile(fsys, path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows:", f.NumRows(), "batches:", f.NumBatches(), "mapped:", f.Mapped())
	batch, err := f.BatchAt(0)
	if err != nil {
		log.Fatal(err)
	}
	f.Close() // the mapping lives on until batch is released
	fmt.Println(batch.Column(1).(*array.String).Value(1))
	batch.Release()

	// The same file through the generic reader, in batches of two rows.
	r, err := arrowio.Open(fsys, path, arrowio.WithBatchSize(2))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for batch, err := range r.Batches(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(batch.NumRows(), "rows")
	}
	// Output:
	// rows: 3 batches: 1 mapped: true
	// quiver
	// 2 rows
	// 1 rows
}
