package arrowio

// Placeholder until the csv reader and writer land; replaced by csv.go.

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
)

func openCSV(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	return nil, fmt.Errorf("%w: csv reader not built yet", ErrUnsupported)
}

func newCSVWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	return nil, fmt.Errorf("%w: csv writer not built yet", ErrUnsupported)
}
