package arrowio

import "slices"

var (
	_ LayoutReader = (*ParquetReader)(nil)
	_ LayoutReader = (*arrowFileReader)(nil)
)

// Layout describes the Parquet file from its footer: writer, codecs and row
// groups.
func (r *ParquetReader) Layout() Layout {
	l := Layout{CreatedBy: r.CreatedBy()}
	for _, rg := range r.RowGroups() {
		l.RowGroups = append(l.RowGroups, RowGroupLayout{Rows: rg.NumRows, Bytes: rg.CompressedSize})
		for _, c := range rg.Columns {
			if !slices.Contains(l.Codecs, c.Codec) {
				l.Codecs = append(l.Codecs, c.Codec)
			}
		}
	}
	slices.Sort(l.Codecs)
	return l
}

// Layout reports the number of record batches of the IPC file.
func (r *arrowFileReader) Layout() Layout { return Layout{Batches: r.f.NumBatches()} }
