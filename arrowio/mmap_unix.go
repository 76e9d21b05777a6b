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

// dropResident removes b's pages from the process's resident set. b is a
// shared read-only file mapping, so nothing is lost: the next access maps
// the page again from the page cache.
func dropResident(b []byte) error { return unix.Madvise(b, unix.MADV_DONTNEED) }
