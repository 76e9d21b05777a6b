package arrowio

// The JSON Lines writer: one JSON object per row, encoded column by column
// with hand-written encoders, in parallel over slices of each batch.

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	asmutf8 "github.com/segmentio/asm/utf8"
)

// jsonlWriter writes batches as JSON Lines. The encoding of each Arrow type:
//
//   - null values (at any depth), NaN and ±Inf: null
//   - bool, integers, floats: JSON numbers and literals (floats in the
//     shortest form that reads back exactly)
//   - utf8 strings: JSON strings, escaping '"', '\\' and control
//     characters; invalid UTF-8 becomes U+FFFD
//   - binary and fixed-size binary: base64 (standard alphabet, padded)
//     strings, which the reader decodes back for binary fields
//   - timestamp: ISO-8601 strings, "2024-05-01T12:30:00.25" for a
//     timestamp without zone and with a "Z" (in UTC) for one with a zone;
//     date32/date64: "2024-05-01"; time32/time64: "12:30:00.25";
//     duration: a number of its unit
//   - decimals: JSON strings of the exact decimal ("12.50"), so no
//     precision is lost to float parsing
//   - lists and fixed-size lists: arrays; structs: objects with every field;
//     maps with string keys: objects, other maps: arrays of
//     {"key":…,"value":…}; dictionary arrays: their values
//
// Other types (unions, run-end encoded, views) are ErrUnsupported when the
// writer is created.
type jsonlWriter struct {
	out     io.WriteCloser // compressor, or a no-op closer over w
	schema  *arrow.Schema
	keys    [][]byte // `{"name":` for column 0, `,"name":` after
	workers int
	bufs    [][]byte
	err     error
}

// minRowsPerWorker keeps small batches on one goroutine.
const minRowsPerWorker = 2048

func newJSONLWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	for _, f := range schema.Fields() {
		if err := jsonEncodable(f.Type); err != nil {
			return nil, fmt.Errorf("%w: column %q: %v", ErrUnsupported, f.Name, err)
		}
	}
	out, err := compressWriter(w, cfg.Compression, cfg.Level)
	if err != nil {
		return nil, err
	}
	jw := &jsonlWriter{out: out, schema: schema, workers: runtime.GOMAXPROCS(0)}
	for i, f := range schema.Fields() {
		var k []byte
		if i == 0 {
			k = append(k, '{')
		} else {
			k = append(k, ',')
		}
		k = appendJSONString(k, f.Name)
		k = append(k, ':')
		jw.keys = append(jw.keys, k)
	}
	return jw, nil
}

// jsonEncodable reports whether the writer can encode type dt.
func jsonEncodable(dt arrow.DataType) error {
	switch t := dt.(type) {
	case *arrow.NullType, *arrow.BooleanType,
		*arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type,
		*arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type,
		*arrow.StringType, *arrow.LargeStringType, *arrow.BinaryType, *arrow.LargeBinaryType,
		*arrow.FixedSizeBinaryType, *arrow.TimestampType, *arrow.Date32Type, *arrow.Date64Type,
		*arrow.Time32Type, *arrow.Time64Type, *arrow.DurationType,
		*arrow.Decimal32Type, *arrow.Decimal64Type, *arrow.Decimal128Type, *arrow.Decimal256Type:
		return nil
	case *arrow.ListType:
		return jsonEncodable(t.Elem())
	case *arrow.LargeListType:
		return jsonEncodable(t.Elem())
	case *arrow.FixedSizeListType:
		return jsonEncodable(t.Elem())
	case *arrow.MapType:
		if err := jsonEncodable(t.KeyType()); err != nil {
			return err
		}
		return jsonEncodable(t.ItemType())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if err := jsonEncodable(f.Type); err != nil {
				return err
			}
		}
		return nil
	case *arrow.DictionaryType:
		return jsonEncodable(t.ValueType)
	case arrow.ExtensionType:
		return jsonEncodable(t.StorageType())
	}
	return fmt.Errorf("type %s has no JSON encoding", dt)
}

// Write encodes batch as len(rows) lines.
func (w *jsonlWriter) Write(batch arrow.RecordBatch) error {
	if w.err != nil {
		return w.err
	}
	encs := make([]encoder, batch.NumCols())
	for j, col := range batch.Columns() {
		encs[j] = newEncoder(col)
	}
	n := int(batch.NumRows())
	parts := min(w.workers, n/minRowsPerWorker)
	if parts < 1 {
		parts = 1
	}
	for len(w.bufs) < parts {
		w.bufs = append(w.bufs, nil)
	}
	if parts == 1 {
		w.bufs[0] = w.encodeRows(w.bufs[0][:0], encs, 0, n)
	} else {
		var wg sync.WaitGroup
		for p := range parts {
			lo, hi := n*p/parts, n*(p+1)/parts
			wg.Go(func() { w.bufs[p] = w.encodeRows(w.bufs[p][:0], encs, lo, hi) })
		}
		wg.Wait()
	}
	for _, b := range w.bufs[:parts] {
		if _, err := w.out.Write(b); err != nil {
			w.err = err
			return err
		}
	}
	// Do not hold on to huge buffers after an unusually large batch.
	for i, b := range w.bufs {
		if cap(b) > 64<<20 {
			w.bufs[i] = nil
		}
	}
	return nil
}

// encodeRows appends rows [lo, hi) to dst.
func (w *jsonlWriter) encodeRows(dst []byte, encs []encoder, lo, hi int) []byte {
	if len(encs) == 0 {
		for range hi - lo {
			dst = append(dst, "{}\n"...)
		}
		return dst
	}
	for i := lo; i < hi; i++ {
		for j, e := range encs {
			dst = append(dst, w.keys[j]...)
			dst = e.encode(dst, i)
		}
		dst = append(dst, '}', '\n')
	}
	return dst
}

// Close flushes the compressor, if any; it does not close the underlying
// writer.
func (w *jsonlWriter) Close() error {
	return w.out.Close()
}

// encoder appends the JSON of element i of an array.
type encoder interface {
	encode(dst []byte, i int) []byte
}

// newEncoder returns the encoder of arr. The type was checked by
// jsonEncodable.
func newEncoder(arr arrow.Array) encoder {
	var e encoder
	switch a := arr.(type) {
	case *array.Null:
		return nullEnc{}
	case *array.Boolean:
		e = boolEnc{a}
	case *array.Int8:
		e = intEnc[int8]{a.Int8Values()}
	case *array.Int16:
		e = intEnc[int16]{a.Int16Values()}
	case *array.Int32:
		e = intEnc[int32]{a.Int32Values()}
	case *array.Int64:
		e = intEnc[int64]{a.Int64Values()}
	case *array.Uint8:
		e = uintEnc[uint8]{a.Uint8Values()}
	case *array.Uint16:
		e = uintEnc[uint16]{a.Uint16Values()}
	case *array.Uint32:
		e = uintEnc[uint32]{a.Uint32Values()}
	case *array.Uint64:
		e = uintEnc[uint64]{a.Uint64Values()}
	case *array.Float16:
		e = funcEnc(func(dst []byte, i int) []byte { return appendJSONFloat(dst, float64(a.Value(i).Float32()), 32) })
	case *array.Float32:
		e = floatEnc[float32]{a.Float32Values(), 32}
	case *array.Float64:
		e = floatEnc[float64]{a.Float64Values(), 64}
	case *array.String:
		e = funcEnc(func(dst []byte, i int) []byte { return appendJSONString(dst, a.Value(i)) })
	case *array.LargeString:
		e = funcEnc(func(dst []byte, i int) []byte { return appendJSONString(dst, a.Value(i)) })
	case *array.Binary:
		e = funcEnc(func(dst []byte, i int) []byte { return appendBase64(dst, a.Value(i)) })
	case *array.LargeBinary:
		e = funcEnc(func(dst []byte, i int) []byte { return appendBase64(dst, a.Value(i)) })
	case *array.FixedSizeBinary:
		e = funcEnc(func(dst []byte, i int) []byte { return appendBase64(dst, a.Value(i)) })
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		zone := a.DataType().(*arrow.TimestampType).TimeZone != ""
		vals := a.TimestampValues()
		e = funcEnc(func(dst []byte, i int) []byte {
			return appendTimestamp(dst, unitToTime(int64(vals[i]), unit), zone)
		})
	case *array.Date32:
		vals := a.Date32Values()
		e = funcEnc(func(dst []byte, i int) []byte {
			return appendDate(dst, time.Unix(int64(vals[i])*86400, 0).UTC())
		})
	case *array.Date64:
		vals := a.Date64Values()
		e = funcEnc(func(dst []byte, i int) []byte {
			return appendDate(dst, time.UnixMilli(int64(vals[i])).UTC())
		})
	case *array.Time32:
		unit := a.DataType().(*arrow.Time32Type).Unit
		vals := a.Time32Values()
		e = funcEnc(func(dst []byte, i int) []byte { return appendTimeOfDay(dst, unitToTime(int64(vals[i]), unit)) })
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		vals := a.Time64Values()
		e = funcEnc(func(dst []byte, i int) []byte { return appendTimeOfDay(dst, unitToTime(int64(vals[i]), unit)) })
	case *array.Duration:
		vals := a.DurationValues()
		e = funcEnc(func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(vals[i]), 10) })
	case *array.Decimal32:
		scale := a.DataType().(*arrow.Decimal32Type).Scale
		e = funcEnc(func(dst []byte, i int) []byte {
			return appendQuoted(dst, decimal.Decimal32(a.Value(i)).ToString(scale))
		})
	case *array.Decimal64:
		scale := a.DataType().(*arrow.Decimal64Type).Scale
		e = funcEnc(func(dst []byte, i int) []byte {
			return appendQuoted(dst, decimal.Decimal64(a.Value(i)).ToString(scale))
		})
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		e = funcEnc(func(dst []byte, i int) []byte { return appendQuoted(dst, decimal128.Num(a.Value(i)).ToString(scale)) })
	case *array.Decimal256:
		scale := a.DataType().(*arrow.Decimal256Type).Scale
		e = funcEnc(func(dst []byte, i int) []byte { return appendQuoted(dst, decimal256.Num(a.Value(i)).ToString(scale)) })
	case *array.List:
		e = listEnc[int32]{offs: a.Offsets()[a.Offset():], child: newEncoder(a.ListValues())}
	case *array.LargeList:
		e = listEnc[int64]{offs: a.Offsets()[a.Offset():], child: newEncoder(a.ListValues())}
	case *array.FixedSizeList:
		size := int(a.DataType().(*arrow.FixedSizeListType).Len())
		child := newEncoder(a.ListValues())
		off := a.Offset()
		e = funcEnc(func(dst []byte, i int) []byte {
			dst = append(dst, '[')
			for k := range size {
				if k > 0 {
					dst = append(dst, ',')
				}
				dst = child.encode(dst, (off+i)*size+k)
			}
			return append(dst, ']')
		})
	case *array.Map:
		e = newMapEncoder(a)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		se := structEnc{}
		for k, f := range st.Fields() {
			key := []byte{','}
			if k == 0 {
				key[0] = '{'
			}
			key = appendJSONString(key, f.Name)
			se.keys = append(se.keys, append(key, ':'))
			se.fields = append(se.fields, newEncoder(a.Field(k)))
		}
		e = se
	case *array.Dictionary:
		values := newEncoder(a.Dictionary())
		e = funcEnc(func(dst []byte, i int) []byte { return values.encode(dst, a.GetValueIndex(i)) })
	case array.ExtensionArray:
		return newEncoder(a.Storage())
	default:
		return funcEnc(func(dst []byte, i int) []byte { return append(dst, "null"...) })
	}
	if arr.NullN() > 0 {
		return nullableEnc{arr: arr, enc: e}
	}
	return e
}

type nullEnc struct{}

func (nullEnc) encode(dst []byte, _ int) []byte { return append(dst, "null"...) }

type nullableEnc struct {
	arr arrow.Array
	enc encoder
}

func (e nullableEnc) encode(dst []byte, i int) []byte {
	if e.arr.IsNull(i) {
		return append(dst, "null"...)
	}
	return e.enc.encode(dst, i)
}

type funcEnc func(dst []byte, i int) []byte

func (f funcEnc) encode(dst []byte, i int) []byte { return f(dst, i) }

type boolEnc struct{ a *array.Boolean }

func (e boolEnc) encode(dst []byte, i int) []byte {
	if e.a.Value(i) {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

type intEnc[T int8 | int16 | int32 | int64] struct{ vals []T }

func (e intEnc[T]) encode(dst []byte, i int) []byte {
	return strconv.AppendInt(dst, int64(e.vals[i]), 10)
}

type uintEnc[T uint8 | uint16 | uint32 | uint64] struct{ vals []T }

func (e uintEnc[T]) encode(dst []byte, i int) []byte {
	return strconv.AppendUint(dst, uint64(e.vals[i]), 10)
}

type floatEnc[T float32 | float64] struct {
	vals []T
	bits int
}

func (e floatEnc[T]) encode(dst []byte, i int) []byte {
	return appendJSONFloat(dst, float64(e.vals[i]), e.bits)
}

// appendJSONFloat appends f in the shortest form that reads back as the
// same value, as encoding/json does; NaN and infinities become null.
func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

type listEnc[O int32 | int64] struct {
	offs  []O
	child encoder
}

func (e listEnc[O]) encode(dst []byte, i int) []byte {
	dst = append(dst, '[')
	for k := e.offs[i]; k < e.offs[i+1]; k++ {
		if k > e.offs[i] {
			dst = append(dst, ',')
		}
		dst = e.child.encode(dst, int(k))
	}
	return append(dst, ']')
}

type structEnc struct {
	keys   [][]byte
	fields []encoder
}

func (e structEnc) encode(dst []byte, i int) []byte {
	if len(e.fields) == 0 {
		return append(dst, "{}"...)
	}
	for k, f := range e.fields {
		dst = append(dst, e.keys[k]...)
		dst = f.encode(dst, i)
	}
	return append(dst, '}')
}

// newMapEncoder writes maps with string keys as objects and other maps as
// arrays of {"key":…,"value":…} entries.
func newMapEncoder(a *array.Map) encoder {
	offs := a.Offsets()[a.Offset():]
	items := newEncoder(a.Items())
	if keys, ok := a.Keys().(*array.String); ok {
		return funcEnc(func(dst []byte, i int) []byte {
			dst = append(dst, '{')
			for k := offs[i]; k < offs[i+1]; k++ {
				if k > offs[i] {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, keys.Value(int(k)))
				dst = append(dst, ':')
				dst = items.encode(dst, int(k))
			}
			return append(dst, '}')
		})
	}
	keys := newEncoder(a.Keys())
	return funcEnc(func(dst []byte, i int) []byte {
		dst = append(dst, '[')
		for k := offs[i]; k < offs[i+1]; k++ {
			if k > offs[i] {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"key":`...)
			dst = keys.encode(dst, int(k))
			dst = append(dst, `,"value":`...)
			dst = items.encode(dst, int(k))
			dst = append(dst, '}')
		}
		return append(dst, ']')
	})
}

// needsEscape marks the ASCII bytes a JSON string cannot hold raw.
var needsEscape = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true // not an escape: checked as UTF-8
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// attention marks, for strings known to be valid UTF-8, the bytes the
// encoder must look at: those to escape and 0xE2, which starts U+2028 and
// U+2029 (escaped so the output is also valid JavaScript).
var attention = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'], t[0xE2] = true, true, true
	return t
}()

// appendJSONString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	if !validUTF8String(s) {
		return appendJSONStringSlow(dst, s)
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !attention[c] {
			continue
		}
		if c == 0xE2 {
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[s[i+2]&0xf])
				i += 2
				start = i + 1
			}
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, c)
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func validUTF8String(s string) bool {
	if len(s) >= 32 {
		return asmutf8.Valid(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
	return utf8.ValidString(s)
}

// appendEscape appends the escape of ASCII byte c.
func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendJSONStringSlow handles strings with invalid UTF-8.
func appendJSONStringSlow(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !needsEscape[c] {
			i++
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[r&0xf])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendQuoted appends s, which needs no escaping, in quotes.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func appendBase64(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// unitToTime converts a count of unit since the epoch to a UTC time.
func unitToTime(v int64, unit arrow.TimeUnit) time.Time {
	switch unit {
	case arrow.Second:
		return time.Unix(v, 0).UTC()
	case arrow.Millisecond:
		return time.UnixMilli(v).UTC()
	case arrow.Microsecond:
		return time.UnixMicro(v).UTC()
	}
	return time.Unix(0, v).UTC()
}

func appendTimestamp(dst []byte, t time.Time, zone bool) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05.999999999")
	if zone {
		dst = append(dst, 'Z')
	}
	return append(dst, '"')
}

func appendDate(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, "2006-01-02")
	return append(dst, '"')
}

func appendTimeOfDay(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, "15:04:05.999999999")
	return append(dst, '"')
}
