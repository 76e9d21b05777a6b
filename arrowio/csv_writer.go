package arrowio

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// csvWriter writes a header line and one RFC 4180 record per row. Nulls are
// empty fields; floats use the shortest text that reads back exactly;
// binary values are base64; lists, structs and maps are JSON text; other
// types use Arrow's value formatting (timestamps as ISO 8601 text).
type csvWriter struct {
	comp   io.WriteCloser
	w      *csv.Writer
	rec    []string
	closed bool
}

// newCSVWriter returns a CSV writer over w, compressed as cfg.Compression
// says (at cfg.Level). The header is written at once.
func newCSVWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	comp, err := compressWriter(w, cfg.Compression, cfg.Level)
	if err != nil {
		return nil, err
	}
	cw := &csvWriter{comp: comp, w: csv.NewWriter(comp), rec: make([]string, schema.NumFields())}
	if err := cw.w.Write(fieldNames(schema)); err != nil {
		return nil, err
	}
	return cw, nil
}

func (w *csvWriter) Write(batch arrow.RecordBatch) error {
	if w.closed {
		return errors.New("csv writer: write after close")
	}
	cols := batch.Columns()
	for i := range int(batch.NumRows()) {
		for j, c := range cols {
			s, err := csvText(c, i)
			if err != nil {
				return fmt.Errorf("csv writer: column %q row %d: %w", batch.ColumnName(j), i, err)
			}
			w.rec[j] = s
		}
		if err := w.w.Write(w.rec); err != nil {
			return fmt.Errorf("csv writer: %w", err)
		}
	}
	w.w.Flush()
	return w.w.Error()
}

// Close flushes the records and the compressor. It is idempotent.
func (w *csvWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.w.Flush()
	return errors.Join(w.w.Error(), w.comp.Close())
}

// csvText formats row i of a as one CSV field.
func csvText(a arrow.Array, i int) (string, error) {
	if a.IsNull(i) {
		return "", nil
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i)), nil
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), nil
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), nil
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64), nil
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32), nil
	case *array.Binary:
		return base64.StdEncoding.EncodeToString(a.Value(i)), nil
	case *array.LargeBinary:
		return base64.StdEncoding.EncodeToString(a.Value(i)), nil
	case *array.FixedSizeBinary:
		return base64.StdEncoding.EncodeToString(a.Value(i)), nil
	case *array.Dictionary:
		return csvText(a.Dictionary(), a.GetValueIndex(i))
	case array.ListLike, *array.Struct:
		b, err := json.Marshal(a.GetOneForMarshal(i))
		return string(b), err
	}
	return a.ValueStr(i), nil
}
