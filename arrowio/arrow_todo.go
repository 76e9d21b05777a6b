package arrowio

// Placeholder until the arrow reader and writer land; replaced by arrow.go.

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
)

func openArrow(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	return nil, fmt.Errorf("%w: arrow reader not built yet", ErrUnsupported)
}

func newArrowWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	return nil, fmt.Errorf("%w: arrow writer not built yet", ErrUnsupported)
}
