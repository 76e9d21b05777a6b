package arrowio

import "os"

// EvictPages removes the file's mapped pages from the process's resident
// set (madvise MADV_DONTNEED on the shared read-only mapping). Batches
// stay valid: their bytes are mapped again from the page cache on next
// access, at the cost of a minor page fault per page. A reader that has
// swept a large mapped file calls it to keep its RSS to what it still
// uses; the kernel would otherwise count every page touched so far.
//
// It does nothing for a file that is not memory-mapped or is closed, and
// is safe to call concurrently with BatchAt.
func (f *ArrowFile) EvictPages() error { return f.evictRange(0, -1) }

// EvictBatchPages is EvictPages for the pages of batch i only (its
// message, rounded out to whole pages).
func (f *ArrowFile) EvictBatchPages(i int) error {
	if i < 0 || i >= len(f.blocks) {
		return nil
	}
	b := f.blocks[i]
	return f.evictRange(b.Offset, b.Offset+int64(b.MetaLength)+b.BodyLength)
}

// evictRange evicts the mapped bytes [lo, hi) rounded out to pages; hi < 0
// means the end of the mapping.
func (f *ArrowFile) evictRange(lo, hi int64) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed || f.m == nil || !f.m.tryAcquire() {
		return nil
	}
	defer f.m.release()
	data := f.m.data
	if hi < 0 || hi > int64(len(data)) {
		hi = int64(len(data))
	}
	page := int64(os.Getpagesize())
	lo = max(0, lo/page*page) // the mapping starts on a page
	if lo >= hi {
		return nil
	}
	return dropResident(data[lo:hi])
}
