package arrowio

import (
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// ParquetRowGroup describes one row group from the footer.
type ParquetRowGroup struct {
	Index   int
	NumRows int64
	// TotalByteSize is the uncompressed size of the row group's column
	// data, CompressedSize its size in the file.
	TotalByteSize, CompressedSize int64
	Columns                       []ParquetColumnChunk
}

// ParquetColumnChunk describes one column chunk (one leaf column in one row
// group) from the footer.
type ParquetColumnChunk struct {
	// Path is the dotted path of the leaf column ("a", "s.b", "l.list.element").
	Path string
	// PhysicalType is the Parquet physical type (INT32, BYTE_ARRAY, ...).
	PhysicalType string
	// Codec is the compression codec: UNCOMPRESSED, SNAPPY, GZIP, BROTLI,
	// ZSTD, LZ4, LZ4_RAW.
	Codec                            string
	NumValues                        int64
	CompressedSize, UncompressedSize int64
	// Stats is nil when the chunk has no statistics.
	Stats *ParquetStats
}

// ParquetStats are the statistics of a column chunk. Min and Max are Go
// values of the physical type: bool, int32, int64, float32, float64,
// string (BYTE_ARRAY, as stored) or []byte (FIXED_LEN_BYTE_ARRAY, INT96);
// they are nil when HasMinMax is false.
type ParquetStats struct {
	HasMinMax    bool
	Min, Max     any
	HasNullCount bool
	NullCount    int64
	// DistinctCount is -1 when the writer did not record it.
	DistinctCount int64
}

// NumRowGroups returns the number of row groups in the file (regardless of
// WithRowGroups).
func (r *ParquetReader) NumRowGroups() int { return r.pf.NumRowGroups() }

// CreatedBy returns the footer's created_by string ("" when absent).
func (r *ParquetReader) CreatedBy() string { return r.pf.MetaData().GetCreatedBy() }

// KeyValueMetadata returns the footer's key-value metadata (including
// ARROW:schema when the writer stored it). Keys without a value map to "".
func (r *ParquetReader) KeyValueMetadata() map[string]string {
	kv := r.pf.MetaData().KeyValueMetadata()
	out := make(map[string]string, len(kv))
	for _, e := range kv {
		if e.Value != nil {
			out[e.Key] = *e.Value
		} else {
			out[e.Key] = ""
		}
	}
	return out
}

// RowGroups describes every row group of the file from the footer, without
// reading data pages. Statistics that cannot be decoded are left nil.
func (r *ParquetReader) RowGroups() []ParquetRowGroup {
	md := r.pf.MetaData()
	out := make([]ParquetRowGroup, md.NumRowGroups())
	for i := range out {
		rg := md.RowGroup(i)
		g := ParquetRowGroup{Index: i, NumRows: rg.NumRows(), TotalByteSize: rg.TotalByteSize(),
			CompressedSize: rg.TotalCompressedSize()}
		for j := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				continue
			}
			g.Columns = append(g.Columns, ParquetColumnChunk{
				Path:             cc.PathInSchema().String(),
				PhysicalType:     cc.Type().String(),
				Codec:            codecName(cc),
				NumValues:        cc.NumValues(),
				CompressedSize:   cc.TotalCompressedSize(),
				UncompressedSize: cc.TotalUncompressedSize(),
				Stats:            chunkStats(cc),
			})
		}
		out[i] = g
	}
	return out
}

func codecName(cc *metadata.ColumnChunkMetaData) string {
	return cc.Compression().String()
}

// chunkStats decodes a column chunk's statistics into Go values, recovering
// from decoder panics on damaged footers.
func chunkStats(cc *metadata.ColumnChunkMetaData) (out *ParquetStats) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	if ok, err := cc.StatsSet(); !ok || err != nil {
		return nil
	}
	st, err := cc.Statistics()
	if err != nil || st == nil {
		return nil
	}
	s := &ParquetStats{HasNullCount: st.HasNullCount(), NullCount: st.NullCount(), DistinctCount: -1}
	if st.HasDistinctCount() {
		s.DistinctCount = st.DistinctCount()
	}
	if !st.HasMinMax() {
		return s
	}
	s.HasMinMax = true
	switch t := st.(type) {
	case *metadata.BooleanStatistics:
		s.Min, s.Max = t.Min(), t.Max()
	case *metadata.Int32Statistics:
		s.Min, s.Max = t.Min(), t.Max()
	case *metadata.Int64Statistics:
		s.Min, s.Max = t.Min(), t.Max()
	case *metadata.Float32Statistics:
		s.Min, s.Max = t.Min(), t.Max()
	case *metadata.Float64Statistics:
		s.Min, s.Max = t.Min(), t.Max()
	case *metadata.ByteArrayStatistics:
		s.Min, s.Max = string(t.Min()), string(t.Max())
	case *metadata.FixedLenByteArrayStatistics:
		s.Min, s.Max = append([]byte(nil), t.Min()...), append([]byte(nil), t.Max()...)
	default:
		s.Min, s.Max = append([]byte(nil), st.EncodeMin()...), append([]byte(nil), st.EncodeMax()...)
	}
	return s
}

// String summarises the chunk for logs: path, type, codec and min/max.
func (c ParquetColumnChunk) String() string {
	s := fmt.Sprintf("%s %s %s values=%d", c.Path, c.PhysicalType, c.Codec, c.NumValues)
	if c.Stats != nil && c.Stats.HasMinMax {
		s += fmt.Sprintf(" min=%v max=%v", c.Stats.Min, c.Stats.Max)
	}
	if c.Stats != nil && c.Stats.HasNullCount {
		s += fmt.Sprintf(" nulls=%d", c.Stats.NullCount)
	}
	return s
}
