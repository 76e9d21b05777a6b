package arrowio

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

func newParquetWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	return nil, fmt.Errorf("%w: parquet writer not built yet", ErrUnsupported)
}
