package arrowio

// Placeholder until the jsonl reader and writer land; replaced by jsonl.go.

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
)

func openJSONL(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	return nil, fmt.Errorf("%w: jsonl reader not built yet", ErrUnsupported)
}

func newJSONLWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	return nil, fmt.Errorf("%w: jsonl writer not built yet", ErrUnsupported)
}
