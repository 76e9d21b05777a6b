package arrowio

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/spf13/afero"
)

// CSV input: RFC 4180 as read by encoding/csv (comma separator, quoted
// fields may hold commas, quotes and newlines), a required header line, an
// optional UTF-8 byte order mark. Every row must have as many fields as the
// header. An empty field is null in every column type.
//
// Without WithSchema the schema is inferred from the first cfg.InferRows
// rows: a column whose sampled values are all "true"/"false" is bool, all
// integers int64, integers and decimals float64, anything else string; an
// all-empty column is string. Values of different kinds (say 12 and "n/a")
// make the column string, or fail with ErrSchema under MixedError. Every
// inferred field is nullable. A value after the sample that does not fit
// the inferred type is an ErrSchema error at its line and column.
//
// With WithSchema, fields are matched to header names; fields missing from
// the header are all null and header columns missing from the schema are
// dropped. Field types may be bool, signed and unsigned integers, float32,
// float64, string, large string, binary (raw bytes), date32 (2006-01-02)
// and timestamp (RFC 3339, or date and time separated by a space).

// csvKind is what inference learned of a column.
type csvKind uint8

const (
	csvNull csvKind = iota
	csvBool
	csvInt
	csvFloat
	csvString
)

var csvKindNames = [...]string{"null", "bool", "int64", "float64", "string"}

func (k csvKind) String() string { return csvKindNames[k] }

// classify returns the narrowest kind that can hold s.
func classify(s string) csvKind {
	if s == "" {
		return csvNull
	}
	switch s {
	case "true", "false", "True", "False", "TRUE", "FALSE":
		return csvBool
	}
	if !looksNumeric(s) {
		return csvString
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return csvInt
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return csvFloat
	}
	return csvString
}

// looksNumeric rejects what ParseFloat accepts but a CSV reader should
// treat as text: "inf", "NaN", "infinity", hex floats and underscores.
func looksNumeric(s string) bool {
	t := strings.TrimLeft(s, "+-")
	if t == "" || len(s)-len(t) > 1 {
		return false
	}
	if c := t[0]; !(c >= '0' && c <= '9' || c == '.') {
		return false
	}
	return !strings.ContainsAny(t, "xX_pP")
}

// unify combines two kinds; ok is false for kinds that do not unify.
func unify(a, b csvKind) (k csvKind, ok bool) {
	switch {
	case a == b:
		return a, true
	case a == csvNull:
		return b, true
	case b == csvNull:
		return a, true
	case a == csvInt && b == csvFloat, a == csvFloat && b == csvInt:
		return csvFloat, true
	}
	return csvString, false
}

func (k csvKind) arrowType() arrow.DataType {
	switch k {
	case csvBool:
		return arrow.FixedWidthTypes.Boolean
	case csvInt:
		return arrow.PrimitiveTypes.Int64
	case csvFloat:
		return arrow.PrimitiveTypes.Float64
	}
	return arrow.BinaryTypes.String
}

// csvSource is an open CSV file positioned after its header.
type csvSource struct {
	file   afero.File
	dec    io.Closer
	r      *csv.Reader
	header []string
}

func (s *csvSource) Close() error {
	return errors.Join(s.dec.Close(), s.file.Close())
}

// openCSVSource opens path, undoes its compression, skips a byte order
// mark and reads the header.
func openCSVSource(fsys afero.Fs, path string, comp Compression) (*csvSource, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	dec, err := decompress(f, comp)
	if err != nil {
		_ = f.Close()
		return nil, NewPosError(path, err)
	}
	br := bufio.NewReaderSize(dec, 1<<20)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.ReuseRecord = true
	s := &csvSource{file: f, dec: dec, r: r}
	header, err := r.Read()
	if err != nil {
		_ = s.Close()
		if errors.Is(err, io.EOF) {
			return nil, &PosError{Path: path, Line: 1, RowGroup: -1, Batch: -1, Err: fmt.Errorf("%w: no header line", ErrSyntax)}
		}
		return nil, csvError(path, err)
	}
	s.header = append([]string(nil), header...)
	return s, nil
}

// csvError turns an encoding/csv or I/O error into a *PosError.
func csvError(path string, err error) error {
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return &PosError{Path: path, Line: int64(pe.Line), Column: int64(pe.Column), RowGroup: -1, Batch: -1,
			Err: fmt.Errorf("%w: %v", ErrSyntax, pe.Err)}
	}
	if errors.Is(err, ErrCorrupt) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &PosError{Path: path, RowGroup: -1, Batch: -1, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	return &PosError{Path: path, RowGroup: -1, Batch: -1, Err: err}
}

// csvReader is the Reader for CSV files. It implements SkipCounter.
type csvReader struct {
	fsys    afero.Fs
	path    string
	cfg     ReadConfig
	schema  *arrow.Schema // output schema, after projection
	srcCol  []int         // header column feeding each output field; -1 for none
	skipped int64
}

func openCSV(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	src, err := openCSVSource(fsys, path, cfg.Compression)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	r := &csvReader{fsys: fsys, path: path, cfg: cfg}
	full := cfg.Schema
	if full == nil {
		if full, err = inferCSV(src, path, cfg); err != nil {
			return nil, err
		}
	}
	for _, f := range full.Fields() {
		if !csvTypeSupported(f.Type) {
			return nil, NewPosError(path, fmt.Errorf("%w: CSV column %q of type %s", ErrUnsupported, f.Name, f.Type))
		}
	}
	schema, proj, err := projectSchema(full, cfg.Columns)
	if err != nil {
		return nil, NewPosError(path, err)
	}
	if proj == nil {
		proj = make([]int, full.NumFields())
		for i := range proj {
			proj[i] = i
		}
	}
	r.schema = schema
	r.srcCol = make([]int, len(proj))
	if cfg.Schema == nil {
		// Inferred fields are the header columns, in order (duplicate
		// names included).
		copy(r.srcCol, proj)
		return r, nil
	}
	byName := make(map[string]int, len(src.header))
	for i, h := range src.header {
		if _, dup := byName[h]; !dup {
			byName[h] = i
		}
	}
	for i, p := range proj {
		c, ok := byName[full.Field(p).Name]
		if !ok {
			c = -1
		}
		r.srcCol[i] = c
	}
	return r, nil
}

// inferCSV samples rows after the header and returns the inferred schema.
func inferCSV(src *csvSource, path string, cfg ReadConfig) (*arrow.Schema, error) {
	kinds := make([]csvKind, len(src.header))
	seen := make([]csvKind, len(src.header)) // first non-null kind, for messages
	for n := 0; cfg.InferRows < 0 || n < cfg.InferRows; n++ {
		rec, err := src.r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if cfg.Permissive {
				if _, ok := errors.AsType[*csv.ParseError](err); ok {
					continue
				}
			}
			return nil, csvError(path, err)
		}
		for i, v := range rec {
			k := classify(v)
			u, ok := unify(kinds[i], k)
			if !ok && cfg.Mixed == MixedError {
				line, col := src.r.FieldPos(i)
				return nil, &PosError{Path: path, Line: int64(line), Column: int64(col), RowGroup: -1, Batch: -1,
					ColumnName: src.header[i],
					Err:        fmt.Errorf("%w: column %q mixes %s and %s values", ErrSchema, src.header[i], seen[i], k)}
			}
			if seen[i] == csvNull {
				seen[i] = k
			}
			kinds[i] = u
		}
	}
	fields := make([]arrow.Field, len(kinds))
	for i, k := range kinds {
		fields[i] = arrow.Field{Name: src.header[i], Type: k.arrowType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

func csvTypeSupported(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.STRING, arrow.LARGE_STRING,
		arrow.BINARY, arrow.DATE32, arrow.TIMESTAMP:
		return true
	}
	return false
}

func (r *csvReader) Path() string           { return r.path }
func (r *csvReader) Format() Format         { return FormatCSV }
func (r *csvReader) Schema() *arrow.Schema  { return r.schema }
func (r *csvReader) NumRows() (int64, bool) { return 0, false }
func (r *csvReader) Close() error           { return nil }

// Skipped returns how many malformed rows the last scan skipped (only in
// permissive mode).
func (r *csvReader) Skipped() int64 { return r.skipped }

var _ SkipCounter = (*csvReader)(nil)

func (r *csvReader) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		r.skipped = 0
		src, err := openCSVSource(r.fsys, r.path, r.cfg.Compression)
		if err != nil {
			yield(nil, err)
			return
		}
		defer src.Close()
		b := array.NewRecordBuilder(r.cfg.Allocator, r.schema)
		defer b.Release()
		cols := newCSVColumns(b)
		rows := 0
		flush := func() bool {
			rec := b.NewRecordBatch()
			rows = 0
			more := yield(rec, nil)
			rec.Release()
			return more
		}
		for {
			rec, err := src.r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if _, ok := errors.AsType[*csv.ParseError](err); ok && r.cfg.Permissive {
					r.skipped++
					continue
				}
				yield(nil, csvError(r.path, err))
				return
			}
			if err := r.appendRow(b, cols, src.r, rec); err != nil {
				if r.cfg.Permissive {
					r.skipped++
					continue
				}
				yield(nil, err)
				return
			}
			if rows++; rows == r.cfg.BatchSize {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
				if !flush() {
					return
				}
			}
		}
		if rows > 0 {
			flush()
		}
	}
}

// appendRow parses rec into the builders of b, through cols (one per
// output field). Each value is parsed once and held by its column until the
// whole row has parsed, so a value that does not fit its column returns an
// ErrSchema *PosError and leaves b as it was (arrow builders cannot drop a
// value, and permissive mode goes on after a bad row).
func (r *csvReader) appendRow(b *array.RecordBuilder, cols []csvColumn, cr *csv.Reader, rec []string) error {
	for i, c := range r.srcCol {
		if c < 0 || rec[c] == "" {
			continue
		}
		if err := cols[i].set(rec[c]); err != nil {
			line, col := cr.FieldPos(c)
			name := r.schema.Field(i).Name
			return &PosError{Path: r.path, Line: int64(line), Column: int64(col), RowGroup: -1, Batch: -1, ColumnName: name,
				Err: fmt.Errorf("%w: column %q: %q is not a valid %s", ErrSchema, name, rec[c], r.schema.Field(i).Type)}
		}
	}
	for i, c := range r.srcCol {
		if c < 0 || rec[c] == "" {
			b.Field(i).AppendNull()
			continue
		}
		cols[i].add()
	}
	return nil
}

// csvColumn parses the non-empty values of one output field. set parses s
// and holds the value, or returns an error if s is not a valid value of the
// field's type; add appends the value held by the last successful set.
type csvColumn interface {
	set(s string) error
	add()
}

// csvValue is the csvColumn of a field whose values parse to T.
type csvValue[T any] struct {
	parse  func(string) (T, error)
	append func(T)
	v      T
}

func (c *csvValue[T]) set(s string) (err error) {
	c.v, err = c.parse(s)
	return err
}

func (c *csvValue[T]) add() { c.append(c.v) }

func newCSVValue[T any](parse func(string) (T, error), append func(T)) csvColumn {
	return &csvValue[T]{parse: parse, append: append}
}

// newCSVColumns returns the csvColumn of each field of b. Every field type
// must be one csvTypeSupported accepts.
func newCSVColumns(b *array.RecordBuilder) []csvColumn {
	cols := make([]csvColumn, len(b.Fields()))
	for i, fb := range b.Fields() {
		cols[i] = newCSVColumn(fb)
	}
	return cols
}

func newCSVColumn(fb array.Builder) csvColumn {
	switch fb := fb.(type) {
	case *array.BooleanBuilder:
		return newCSVValue(parseCSVBool, fb.Append)
	case *array.Int8Builder:
		return newCSVValue(parseCSVInt[int8], fb.Append)
	case *array.Int16Builder:
		return newCSVValue(parseCSVInt[int16], fb.Append)
	case *array.Int32Builder:
		return newCSVValue(parseCSVInt[int32], fb.Append)
	case *array.Int64Builder:
		return newCSVValue(parseCSVInt[int64], fb.Append)
	case *array.Uint8Builder:
		return newCSVValue(parseCSVUint[uint8], fb.Append)
	case *array.Uint16Builder:
		return newCSVValue(parseCSVUint[uint16], fb.Append)
	case *array.Uint32Builder:
		return newCSVValue(parseCSVUint[uint32], fb.Append)
	case *array.Uint64Builder:
		return newCSVValue(parseCSVUint[uint64], fb.Append)
	case *array.Float32Builder:
		return newCSVValue(parseCSVFloat[float32], fb.Append)
	case *array.Float64Builder:
		return newCSVValue(parseCSVFloat[float64], fb.Append)
	case *array.StringBuilder:
		return newCSVValue(parseCSVText, fb.Append)
	case *array.LargeStringBuilder:
		return newCSVValue(parseCSVText, fb.Append)
	case *array.BinaryBuilder:
		return newCSVValue(parseCSVText, fb.AppendString)
	case *array.Date32Builder:
		return newCSVValue(parseCSVDate, fb.Append)
	case *array.TimestampBuilder:
		tt := fb.Type().(*arrow.TimestampType)
		loc, err := tt.GetZone()
		if err != nil || loc == nil {
			loc = time.UTC
		}
		return newCSVValue(func(s string) (arrow.Timestamp, error) { return parseCSVTime(s, tt.Unit, loc) }, fb.Append)
	}
	panic(fmt.Sprintf("arrowio: CSV builder %T not handled", fb))
}

func parseCSVBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE", "1":
		return true, nil
	case "false", "False", "FALSE", "0":
		return false, nil
	}
	return false, errors.New("not a bool")
}

// parseCSVInt parses a base-10 integer that fits T.
func parseCSVInt[T int8 | int16 | int32 | int64](s string) (T, error) {
	v, err := strconv.ParseInt(s, 10, int(unsafe.Sizeof(T(0)))*8)
	return T(v), err
}

// parseCSVUint parses a base-10 unsigned integer that fits T.
func parseCSVUint[T uint8 | uint16 | uint32 | uint64](s string) (T, error) {
	v, err := strconv.ParseUint(s, 10, int(unsafe.Sizeof(T(0)))*8)
	return T(v), err
}

// parseCSVFloat parses a decimal number, rounded to T; one out of T's
// range is an error.
func parseCSVFloat[T float32 | float64](s string) (T, error) {
	v, err := strconv.ParseFloat(s, int(unsafe.Sizeof(T(0)))*8)
	return T(v), err
}

// parseCSVText takes any text as it is (string and binary fields).
func parseCSVText(s string) (string, error) { return s, nil }

func parseCSVDate(s string) (arrow.Date32, error) {
	t, err := time.Parse("2006-01-02", s)
	return arrow.Date32FromTime(t), err
}

func parseCSVTime(s string, unit arrow.TimeUnit, loc *time.Location) (arrow.Timestamp, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return arrow.TimestampFromTime(t, unit)
		}
	}
	return 0, errors.New("not a timestamp")
}
