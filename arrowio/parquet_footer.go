package arrowio

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// sanitizedFooter re-reads the footer of src with parquet-go's Thrift
// decoder and repairs the schema annotations arrow-go rejects, so that the
// data can still be read through pqarrow:
//
//   - a logical type unknown to the reader (written by a newer writer) is
//     dropped, and the column reads as its physical type, as the Parquet
//     spec asks of old readers;
//   - a MAP whose keys are not REQUIRED (Presto wrote these) is relabelled
//     as a LIST, so it reads as list<struct<key, value>>: keys may be null,
//     which an Arrow map cannot hold.
//
// It returns the repaired metadata and whether anything changed.
func sanitizedFooter(src *parquetSource) (*metadata.FileMetaData, bool, error) {
	var tail [8]byte
	if _, err := src.ReadAt(tail[:], src.size-8); err != nil {
		return nil, false, fmt.Errorf("%w: reading footer: %v", ErrCorrupt, err)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > src.size-12 {
		return nil, false, fmt.Errorf("%w: footer length %d does not fit in a %d-byte file", ErrCorrupt, n, src.size)
	}
	buf := make([]byte, n)
	if _, err := src.ReadAt(buf, src.size-8-n); err != nil {
		return nil, false, fmt.Errorf("%w: reading footer: %v", ErrCorrupt, err)
	}
	var fmd format.FileMetaData
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), buf, &fmd); err != nil {
		return nil, false, fmt.Errorf("%w: decoding footer: %v", ErrCorrupt, err)
	}
	changed := false
	el := fmd.Schema
	for i := range el {
		if isMapGroup(&el[i]) && mapKeyNotRequired(el, i) {
			el[i].ConvertedType.Set(deprecated.List)
			el[i].LogicalType = format.LogicalType{Value: &format.ListType{}}
			if i+1 < len(el) {
				el[i+1].ConvertedType.Reset()
			}
			changed = true
		}
	}
	out, err := thrift.Marshal(new(thrift.CompactProtocol), &fmd)
	if err != nil {
		return nil, false, fmt.Errorf("%w: re-encoding footer: %v", ErrCorrupt, err)
	}
	// An unknown logical type decodes to an empty union, which encodes as
	// absent: the footer changed if its length did.
	if len(out) != len(buf) {
		changed = true
	}
	var md *metadata.FileMetaData
	err = protect(func() error {
		var err error
		md, err = metadata.NewFileMetaData(out, nil)
		return err
	})
	if err != nil {
		return nil, false, classifyParquetErr(err)
	}
	md.SetSourceFileSize(src.size)
	return md, changed, nil
}

func isMapGroup(e *format.SchemaElement) bool {
	if _, ok := e.LogicalType.Value.(*format.MapType); ok {
		return true
	}
	ct, ok := e.ConvertedType.Get()
	return ok && ct == deprecated.Map
}

// mapKeyNotRequired reports whether the MAP group at el[i] has the layout
// group { repeated group { key; value } } with a key that is not REQUIRED.
func mapKeyNotRequired(el []format.SchemaElement, i int) bool {
	if i+2 >= len(el) {
		return false
	}
	kv, key := &el[i+1], &el[i+2]
	if rep, _ := kv.RepetitionType.Get(); rep != format.Repeated {
		return false
	}
	if nc, _ := kv.NumChildren.Get(); nc < 1 {
		return false
	}
	rep, ok := key.RepetitionType.Get()
	return ok && rep != format.Required
}
