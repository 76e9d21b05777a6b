package arrowio

import "github.com/apache/arrow-go/v18/arrow"

// BatchBytes returns the bytes of Arrow buffers batch references, counting
// children and dictionaries. For a slice it counts the whole buffers the
// slice shares, so it is an upper bound on what the slice would take if
// written out; Hugging Face's max_shard_size is measured the same way.
func BatchBytes(batch arrow.RecordBatch) int64 {
	var n int64
	for _, col := range batch.Columns() {
		n += dataBytes(col.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	// Dictionary returns a typed nil for other types, so ask by type.
	if d.DataType().ID() == arrow.DICTIONARY {
		n += dataBytes(d.Dictionary())
	}
	return n
}
