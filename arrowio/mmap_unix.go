//go:build unix

package arrowio

import (
	"os"

	"golang.org/x/sys/unix"
)

// mmapSupported reports whether this platform can map files.
const mmapSupported = true

// mmapFile maps size bytes of f read-only and shared.
func mmapFile(f *os.File, size int64) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
}

func munmapBytes(b []byte) error { return unix.Munmap(b) }
