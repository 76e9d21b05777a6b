package arrowio

// Placeholder until the parquet reader and writer land; replaced by parquet.go.

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
)

func openParquet(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	return nil, fmt.Errorf("%w: parquet reader not built yet", ErrUnsupported)
}

func newParquetWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	return nil, fmt.Errorf("%w: parquet writer not built yet", ErrUnsupported)
}
