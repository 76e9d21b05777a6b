//go:build !unix

package arrowio

import (
	"errors"
	"os"
)

// mmapSupported reports whether this platform can map files.
const mmapSupported = false

func mmapFile(*os.File, int64) ([]byte, error) {
	return nil, errors.New("memory mapping is not supported on this platform")
}

func munmapBytes([]byte) error { return nil }

func dropResident([]byte) error { return nil }
