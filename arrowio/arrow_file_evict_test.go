//go:build linux

package arrowio

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// mappingRSS returns the resident bytes of the mapping that starts at
// addr, from /proc/self/smaps.
func mappingRSS(t *testing.T, addr uintptr) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	want := fmt.Sprintf("%x-", addr)
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, want) {
			found = true
			continue
		}
		if found && strings.HasPrefix(line, "Rss:") {
			kb, err := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("no mapping at %#x in /proc/self/smaps", addr)
	return 0
}

// TestArrowFileEvictPages checks that EvictPages empties the mapping's
// resident set and that batches read afterwards (and batches held from
// before) still hold the same values.
func TestArrowFileEvictPages(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.arrow")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", 40000, 40000, 40000)
	f, err := OpenArrowFile(afero.NewOsFs(), path)
	require.NoError(t, err)
	defer f.Close()
	require.NotNil(t, f.m, "file is not mapped")
	addr := uintptr(unsafe.Pointer(&f.m.data[0]))
	size := int64(len(f.m.data))

	held, err := f.BatchAt(1)
	require.NoError(t, err)
	defer held.Release()
	for i := 0; i < len(f.m.data); i += 4096 { // touch every page
		evictSink += f.m.data[i]
	}
	before := mappingRSS(t, addr)
	require.Greater(t, before, size/2, "touched mapping is not resident")

	require.NoError(t, f.EvictBatchPages(0))
	one := mappingRSS(t, addr)
	require.Less(t, one, before-size/5, "EvictBatchPages(0) left %d of %d bytes resident", one, before)
	require.Greater(t, one, size/3, "EvictBatchPages(0) evicted other batches too")
	require.NoError(t, f.EvictBatchPages(99), "a batch past the end is not an error")

	require.NoError(t, f.EvictPages())
	after := mappingRSS(t, addr)
	require.Less(t, after, size/10, "EvictPages left %d of %d bytes resident", after, size)

	mem := memory.NewGoAllocator()
	want := makeBatch(mem, 40000, 40000)
	defer want.Release()
	requireBatchEqual(t, want, held)
	again, err := f.BatchAt(1)
	require.NoError(t, err)
	defer again.Release()
	requireBatchEqual(t, want, again)

	require.NoError(t, f.Close())
	require.NoError(t, f.EvictPages(), "EvictPages after Close")
}

var evictSink byte
