package arrowio

import (
	"fmt"

	"github.com/spf13/afero"
)

func openArrow(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	return nil, fmt.Errorf("%w: arrow reader not built yet", ErrUnsupported)
}
