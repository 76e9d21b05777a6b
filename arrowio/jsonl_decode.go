package arrowio

// Column decoders: each parses one JSON value at the scanner's position and
// appends it to its own Go-slice buffers. Buffers are plain slices (not
// arrow builders) so that a half-decoded row can be rolled back with
// truncate when a line turns out to be malformed; build copies them into
// allocator memory once per batch.

import (
	"encoding/base64"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// column is the decoder of one column (or nested child).
type column interface {
	// decode parses the value at s.pos (not whitespace, not null: see
	// decodeValue) and appends it. On error the column may hold a partial
	// value; the caller truncates.
	decode(s *scanner) error
	appendNull()
	len() int
	// truncate drops every value after the first n.
	truncate(n int)
	// build moves the contents into allocator memory and empties the column.
	build(mem memory.Allocator) arrow.ArrayData
}

// newColumn returns the decoder for type dt; path names the field in errors.
func newColumn(dt arrow.DataType, path string) (column, error) {
	switch t := dt.(type) {
	case *arrow.NullType:
		return &nullCol{path: path}, nil
	case *arrow.BooleanType:
		return &boolCol{path: path}, nil
	case *arrow.Int8Type:
		return newIntCol[int8](dt, path, math.MinInt8, math.MaxInt8), nil
	case *arrow.Int16Type:
		return newIntCol[int16](dt, path, math.MinInt16, math.MaxInt16), nil
	case *arrow.Int32Type:
		return newIntCol[int32](dt, path, math.MinInt32, math.MaxInt32), nil
	case *arrow.Int64Type:
		return newIntCol[int64](dt, path, math.MinInt64, math.MaxInt64), nil
	case *arrow.Uint8Type:
		return newUintCol[uint8](dt, path, math.MaxUint8), nil
	case *arrow.Uint16Type:
		return newUintCol[uint16](dt, path, math.MaxUint16), nil
	case *arrow.Uint32Type:
		return newUintCol[uint32](dt, path, math.MaxUint32), nil
	case *arrow.Uint64Type:
		return newUintCol[uint64](dt, path, math.MaxUint64), nil
	case *arrow.Float32Type:
		return &floatCol[float32]{fixedCol: fixedCol[float32]{dt: dt, path: path}}, nil
	case *arrow.Float64Type:
		return &floatCol[float64]{fixedCol: fixedCol[float64]{dt: dt, path: path}}, nil
	case *arrow.StringType:
		return &strCol[int32]{dt: dt, path: path, offs: []int32{0}}, nil
	case *arrow.LargeStringType:
		return &strCol[int64]{dt: dt, path: path, offs: []int64{0}}, nil
	case *arrow.BinaryType:
		return &strCol[int32]{dt: dt, path: path, offs: []int32{0}, binary: true}, nil
	case *arrow.LargeBinaryType:
		return &strCol[int64]{dt: dt, path: path, offs: []int64{0}, binary: true}, nil
	case *arrow.TimestampType:
		return newTimestampCol(dt, path, t.Unit), nil
	case *arrow.Date32Type:
		return newDate32Col(dt, path), nil
	case *arrow.Date64Type:
		return newTimestampCol(dt, path, arrow.Millisecond), nil
	case *arrow.DurationType:
		return newIntCol[int64](dt, path, math.MinInt64, math.MaxInt64), nil
	case *arrow.Time32Type:
		return newTimeOfDayCol[int32](dt, path, t.Unit), nil
	case *arrow.Time64Type:
		return newTimeOfDayCol[int64](dt, path, t.Unit), nil
	case *arrow.Float16Type:
		return &float16Col{fixedCol: fixedCol[float16.Num]{dt: dt, path: path}}, nil
	case *arrow.Decimal128Type:
		return &decimalCol{fixedCol: fixedCol[decimal128.Num]{dt: dt, path: path}, prec: t.Precision, scale: t.Scale}, nil
	case *arrow.ListType:
		child, err := newColumn(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return &listCol[int32]{dt: dt, path: path, offs: []int32{0}, child: child}, nil
	case *arrow.LargeListType:
		child, err := newColumn(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return &listCol[int64]{dt: dt, path: path, offs: []int64{0}, child: child}, nil
	case *arrow.FixedSizeListType:
		child, err := newColumn(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return &fslCol{dt: dt, path: path, size: int(t.Len()), child: child}, nil
	case *arrow.StructType:
		c := &structCol{dt: dt, path: path}
		c.keys = newKeyIndex(t.Fields())
		for _, f := range t.Fields() {
			child, err := newColumn(f.Type, path+"."+f.Name)
			if err != nil {
				return nil, err
			}
			c.children = append(c.children, child)
		}
		c.seen = make([]uint32, len(c.children))
		return c, nil
	case *arrow.MapType:
		if t.KeyType().ID() != arrow.STRING {
			return nil, fmt.Errorf("%w: field %q: map keys of type %s (JSON object keys are strings)", ErrUnsupported, path, t.KeyType())
		}
		vals, err := newColumn(t.ItemType(), path+"{}")
		if err != nil {
			return nil, err
		}
		return &mapCol{dt: t, path: path, offs: []int32{0}, keys: strCol[int32]{dt: arrow.BinaryTypes.String, offs: []int32{0}}, vals: vals}, nil
	}
	return nil, fmt.Errorf("%w: field %q: JSON Lines cannot decode type %s", ErrUnsupported, path, dt)
}

// bitBuf is a growable bitmap.
type bitBuf struct {
	bits []byte
	n    int
}

func (b *bitBuf) push(v bool) {
	if b.n&7 == 0 {
		b.bits = append(b.bits, 0)
	}
	if v {
		b.bits[b.n>>3] |= 1 << (b.n & 7)
	}
	b.n++
}

func (b *bitBuf) truncate(n int) {
	b.bits = b.bits[:(n+7)>>3]
	if n&7 != 0 {
		b.bits[n>>3] &= byte(1)<<(n&7) - 1
	}
	b.n = n
}

func (b *bitBuf) clear() { b.bits, b.n = b.bits[:0], 0 }

// validityBuffer copies the bitmap into allocator memory, or returns nil
// when every value is valid. It also returns the null count.
func (b *bitBuf) validityBuffer(mem memory.Allocator) (*memory.Buffer, int) {
	nulls := b.n - bitutil.CountSetBits(b.bits, 0, b.n)
	if nulls == 0 {
		return nil, 0
	}
	return copyBuffer(mem, b.bits), nulls
}

// copyBuffer copies p into a new buffer from mem.
func copyBuffer(mem memory.Allocator, p []byte) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(p))
	copy(buf.Bytes(), p)
	return buf
}

// takeBuffer turns the contents of *p into a buffer and leaves *p empty.
// With Go's allocator, whose memory is garbage collected anyway, the slice
// itself becomes the buffer (saving a copy) and *p gets a fresh one of the
// same capacity; any other allocator gets a copy in its own memory.
func takeBuffer[T any](mem memory.Allocator, p *[]T) *memory.Buffer {
	if _, ok := mem.(*memory.GoAllocator); ok && len(*p) > 0 {
		b := memory.NewBufferBytes(sliceBytes(*p))
		*p = make([]T, 0, cap(*p))
		return b
	}
	b := copyBuffer(mem, sliceBytes(*p))
	*p = (*p)[:0]
	return b
}

// sliceBytes views a slice of fixed-size values as bytes.
func sliceBytes[T any](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(zero)))
}

// newData wraps buffers and children into ArrayData and drops this
// function's references to them.
func newData(dt arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.ArrayData, nulls int) arrow.ArrayData {
	d := array.NewData(dt, n, bufs, children, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	for _, c := range children {
		c.Release()
	}
	return d
}

// decodeValue decodes the value at s.pos into c. Every column takes
// null, so a JSON null is appended as null here; any other value goes to
// c.decode.
func decodeValue(s *scanner, c column) error {
	if s.isNull() {
		c.appendNull()
		return nil
	}
	return c.decode(s)
}

// convErr reports a value of the wrong kind for a column.
// Malformed input is reported as the syntax error it is.
func convErr(s *scanner, path string, dt arrow.DataType) error {
	start := s.pos
	kind := s.kindAt()
	if err := s.skipValue(); err != nil {
		return err
	}
	return s.schemaErr(start, path, fmt.Sprintf("cannot convert %s to %s", kind, dt))
}

// fixedCol holds fixed-width values and their validity.
type fixedCol[T any] struct {
	dt    arrow.DataType
	path  string
	valid bitBuf
	vals  []T
}

func (c *fixedCol[T]) push(v T) {
	c.valid.push(true)
	c.vals = append(c.vals, v)
}

func (c *fixedCol[T]) appendNull() {
	var zero T
	c.valid.push(false)
	c.vals = append(c.vals, zero)
}

func (c *fixedCol[T]) len() int { return len(c.vals) }

func (c *fixedCol[T]) truncate(n int) {
	c.valid.truncate(n)
	c.vals = c.vals[:n]
}

func (c *fixedCol[T]) build(mem memory.Allocator) arrow.ArrayData {
	n := len(c.vals)
	vb, nulls := c.valid.validityBuffer(mem)
	d := newData(c.dt, n, []*memory.Buffer{vb, takeBuffer(mem, &c.vals)}, nil, nulls)
	c.valid.clear()
	return d
}

// intCol decodes signed and unsigned integers of type T that lie in
// [min, max]. A number written with a fraction or an exponent fits if its
// value is a whole number in range (1e3, 2.0).
type intCol[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64] struct {
	fixedCol[T]
	signed bool
	min    int64 // signed only; 0 for unsigned
	max    uint64
}

func newIntCol[T int8 | int16 | int32 | int64](dt arrow.DataType, path string, lo, hi int64) *intCol[T] {
	return &intCol[T]{fixedCol: fixedCol[T]{dt: dt, path: path}, signed: true, min: lo, max: uint64(hi)}
}

func newUintCol[T uint8 | uint16 | uint32 | uint64](dt arrow.DataType, path string, hi uint64) *intCol[T] {
	return &intCol[T]{fixedCol: fixedCol[T]{dt: dt, path: path}, max: hi}
}

func (c *intCol[T]) decode(s *scanner) error {
	ch := s.peek()
	if ch != '-' && ch-'0' > 9 {
		return convErr(s, c.path, c.dt)
	}
	start := s.pos
	t, isInt, err := s.number()
	if err != nil {
		return err
	}
	v, ok := c.fit(t, isInt)
	if !ok {
		return s.schemaErr(start, c.path, fmt.Sprintf("number %s does not fit %s", t, c.dt))
	}
	c.push(v)
	return nil
}

// fit converts the number text t (isInt: no fraction, no exponent) to T;
// ok is false if its value is not a whole number in [c.min, c.max].
func (c *intCol[T]) fit(t []byte, isInt bool) (v T, ok bool) {
	switch {
	case isInt && c.signed:
		n, ok := parseInt64(t)
		return T(n), ok && n >= c.min && n <= int64(c.max)
	case isInt:
		n, ok := parseUint64(t)
		return T(n), ok && n <= c.max
	}
	f := parseFloat(t)
	if f != math.Trunc(f) {
		return 0, false
	}
	if c.signed {
		return T(f), f >= float64(c.min) && f < -float64(c.min) && int64(f) <= int64(c.max)
	}
	return T(f), f >= 0 && f < 1<<64 && uint64(f) <= c.max
}

type floatCol[T float32 | float64] struct{ fixedCol[T] }

func (c *floatCol[T]) decode(s *scanner) error {
	ch := s.peek()
	if ch == '-' || ch-'0' <= 9 {
		t, _, err := s.number()
		if err != nil {
			return err
		}
		c.push(T(parseFloat(t)))
		return nil
	}
	return convErr(s, c.path, c.dt)
}

// float16Col decodes numbers into half floats (rounded to nearest).
type float16Col struct{ fixedCol[float16.Num] }

func (c *float16Col) decode(s *scanner) error {
	ch := s.peek()
	if ch == '-' || ch-'0' <= 9 {
		t, _, err := s.number()
		if err != nil {
			return err
		}
		c.push(float16.New(float32(parseFloat(t))))
		return nil
	}
	return convErr(s, c.path, c.dt)
}

type decimalCol struct {
	fixedCol[decimal128.Num]
	prec, scale int32
}

// decode accepts a number or a string holding a number.
func (c *decimalCol) decode(s *scanner) error {
	start := s.pos
	var text []byte
	switch ch := s.peek(); {
	case ch == '-' || ch-'0' <= 9:
		t, _, err := s.number()
		if err != nil {
			return err
		}
		text = t
	case ch == '"':
		t, err := s.str()
		if err != nil {
			return err
		}
		text = t
	default:
		return convErr(s, c.path, c.dt)
	}
	v, err := decimal128.FromString(string(text), c.prec, c.scale)
	if err != nil {
		return s.schemaErr(start, c.path, fmt.Sprintf("%q is not a %s: %v", text, c.dt, err))
	}
	c.push(v)
	return nil
}

type boolCol struct {
	path  string
	valid bitBuf
	vals  bitBuf
}

func (c *boolCol) decode(s *scanner) error {
	switch s.peek() {
	case 't':
		if err := s.literal("true"); err != nil {
			return err
		}
		c.valid.push(true)
		c.vals.push(true)
		return nil
	case 'f':
		if err := s.literal("false"); err != nil {
			return err
		}
		c.valid.push(true)
		c.vals.push(false)
		return nil
	}
	return convErr(s, c.path, arrow.FixedWidthTypes.Boolean)
}

func (c *boolCol) appendNull() {
	c.valid.push(false)
	c.vals.push(false)
}

func (c *boolCol) len() int { return c.vals.n }

func (c *boolCol) truncate(n int) {
	c.valid.truncate(n)
	c.vals.truncate(n)
}

func (c *boolCol) build(mem memory.Allocator) arrow.ArrayData {
	vb, nulls := c.valid.validityBuffer(mem)
	d := newData(arrow.FixedWidthTypes.Boolean, c.vals.n, []*memory.Buffer{vb, copyBuffer(mem, c.vals.bits)}, nil, nulls)
	c.valid.clear()
	c.vals.clear()
	return d
}

// nullCol decodes a column of type null: only JSON null fits.
type nullCol struct {
	path string
	n    int
}

func (c *nullCol) decode(s *scanner) error {
	start, kind := s.pos, s.kindAt()
	if err := s.skipValue(); err != nil {
		return err
	}
	return s.schemaErr(start, c.path, fmt.Sprintf("found %s in a column of type null (all values seen by schema inference were null; sample more lines with WithInferRows or give WithSchema)", kind))
}

func (c *nullCol) appendNull()    { c.n++ }
func (c *nullCol) len() int       { return c.n }
func (c *nullCol) truncate(n int) { c.n = n }
func (c *nullCol) build(memory.Allocator) arrow.ArrayData {
	d := array.NewData(arrow.Null, c.n, []*memory.Buffer{nil}, nil, c.n, 0)
	c.n = 0
	return d
}

// strCol decodes strings and binaries. A string column takes any JSON value:
// non-strings are kept as their JSON text (how inference represents fields
// of mixed kinds). A binary column takes base64 strings.
type strCol[O int32 | int64] struct {
	dt     arrow.DataType
	path   string
	binary bool
	valid  bitBuf
	offs   []O // len = values + 1
	data   []byte
	fix    []byte // scratch for UTF-8 repair
}

func (c *strCol[O]) decode(s *scanner) error {
	start := s.pos
	if s.peek() == '"' {
		b, err := s.str()
		if err != nil {
			return err
		}
		if c.binary {
			n := base64.StdEncoding.DecodedLen(len(b))
			l := len(c.data)
			c.data = append(c.data, make([]byte, n)...)
			m, err := base64.StdEncoding.Decode(c.data[l:], b)
			if err != nil {
				c.data = c.data[:l]
				return s.schemaErr(start, c.path, "invalid base64 in binary value")
			}
			c.data = c.data[:l+m]
		} else {
			c.data = append(c.data, fixUTF8(b, c.fix)...)
		}
	} else {
		if c.binary {
			return convErr(s, c.path, c.dt)
		}
		if err := s.skipValue(); err != nil {
			return err
		}
		c.data = append(c.data, s.buf[start:s.pos]...)
	}
	if O(len(c.data)) < 0 || int64(len(c.data)) > math.MaxInt32 && unsafe.Sizeof(O(0)) == 4 {
		return s.schemaErr(start, c.path, "more than 2 GiB of string data in one batch (use large_string)")
	}
	c.valid.push(true)
	c.offs = append(c.offs, O(len(c.data)))
	return nil
}

// appendBytes appends a valid value (used for map keys).
func (c *strCol[O]) appendBytes(b []byte) {
	c.data = append(c.data, fixUTF8(b, c.fix)...)
	c.valid.push(true)
	c.offs = append(c.offs, O(len(c.data)))
}

func (c *strCol[O]) appendNull() {
	c.valid.push(false)
	c.offs = append(c.offs, O(len(c.data)))
}

func (c *strCol[O]) len() int { return len(c.offs) - 1 }

func (c *strCol[O]) truncate(n int) {
	c.valid.truncate(n)
	c.offs = c.offs[:n+1]
	c.data = c.data[:c.offs[n]]
}

func (c *strCol[O]) build(mem memory.Allocator) arrow.ArrayData {
	n := len(c.offs) - 1
	vb, nulls := c.valid.validityBuffer(mem)
	d := newData(c.dt, n, []*memory.Buffer{vb, copyBuffer(mem, sliceBytes(c.offs)), takeBuffer(mem, &c.data)}, nil, nulls)
	c.valid.clear()
	c.offs = c.offs[:1]
	return d
}

// listCol decodes JSON arrays into list or large_list.
type listCol[O int32 | int64] struct {
	dt    arrow.DataType
	path  string
	valid bitBuf
	offs  []O
	child column
}

func (c *listCol[O]) decode(s *scanner) error {
	if s.peek() != '[' {
		return convErr(s, c.path, c.dt)
	}
	if err := s.elements(func() error { return decodeValue(s, c.child) }); err != nil {
		return err
	}
	c.valid.push(true)
	c.offs = append(c.offs, O(c.child.len()))
	return nil
}

func (c *listCol[O]) appendNull() {
	c.valid.push(false)
	c.offs = append(c.offs, c.offs[len(c.offs)-1])
}

func (c *listCol[O]) len() int { return len(c.offs) - 1 }

func (c *listCol[O]) truncate(n int) {
	c.valid.truncate(n)
	c.offs = c.offs[:n+1]
	c.child.truncate(int(c.offs[n]))
}

func (c *listCol[O]) build(mem memory.Allocator) arrow.ArrayData {
	n := len(c.offs) - 1
	vb, nulls := c.valid.validityBuffer(mem)
	child := c.child.build(mem)
	d := newData(c.dt, n, []*memory.Buffer{vb, copyBuffer(mem, sliceBytes(c.offs))}, []arrow.ArrayData{child}, nulls)
	c.valid.clear()
	c.offs = c.offs[:1]
	return d
}

// fslCol decodes JSON arrays of exactly size elements.
type fslCol struct {
	dt    arrow.DataType
	path  string
	size  int
	valid bitBuf
	child column
}

func (c *fslCol) decode(s *scanner) error {
	if s.peek() != '[' {
		return convErr(s, c.path, c.dt)
	}
	start := s.pos
	n := 0
	err := s.elements(func() error {
		n++
		return decodeValue(s, c.child)
	})
	if err != nil {
		return err
	}
	if n != c.size {
		return s.schemaErr(start, c.path, fmt.Sprintf("array of %d elements for %s", n, c.dt))
	}
	c.valid.push(true)
	return nil
}

func (c *fslCol) appendNull() {
	c.valid.push(false)
	for range c.size {
		c.child.appendNull()
	}
}

func (c *fslCol) len() int { return c.valid.n }

func (c *fslCol) truncate(n int) {
	c.valid.truncate(n)
	c.child.truncate(n * c.size)
}

func (c *fslCol) build(mem memory.Allocator) arrow.ArrayData {
	n := c.valid.n
	vb, nulls := c.valid.validityBuffer(mem)
	child := c.child.build(mem)
	d := newData(c.dt, n, []*memory.Buffer{vb}, []arrow.ArrayData{child}, nulls)
	c.valid.clear()
	return d
}

// keyIndex finds a field by its JSON key. Keys usually come in the same
// order on every line, so it first tries the field after the last match.
type keyIndex struct {
	names  []string
	byName map[string]int
	next   int
}

func newKeyIndex(fields []arrow.Field) keyIndex {
	k := keyIndex{byName: make(map[string]int, len(fields))}
	for i, f := range fields {
		k.names = append(k.names, f.Name)
		if _, dup := k.byName[f.Name]; !dup {
			k.byName[f.Name] = i
		}
	}
	return k
}

// lookup returns the field index of key, or -1.
func (k *keyIndex) lookup(key []byte) int {
	if k.next < len(k.names) && k.names[k.next] == string(key) {
		i := k.next
		k.next++
		return i
	}
	i, ok := k.byName[string(key)]
	if !ok {
		return -1
	}
	k.next = i + 1
	return i
}

// structCol decodes JSON objects. Unknown keys are skipped, missing keys are
// null, and of duplicate keys the first wins.
type structCol struct {
	dt       arrow.DataType
	path     string
	valid    bitBuf
	keys     keyIndex
	children []column
	seen     []uint32
	gen      uint32
}

func (c *structCol) decode(s *scanner) error {
	if s.peek() != '{' {
		return convErr(s, c.path, c.dt)
	}
	if err := decodeMembers(s, &c.keys, c.children, c.seen, &c.gen); err != nil {
		return err
	}
	c.valid.push(true)
	return nil
}

// decodeMembers decodes an object into the columns children (nil entries
// are skipped) and appends null to those the object lacks.
func decodeMembers(s *scanner, keys *keyIndex, children []column, seen []uint32, gen *uint32) error {
	*gen++
	if *gen == 0 { // wrapped: forget stale marks
		clear(seen)
		*gen = 1
	}
	g := *gen
	keys.next = 0
	err := s.members(func(key []byte) error {
		i := keys.lookup(key)
		if i < 0 || children[i] == nil || seen[i] == g {
			return s.skipValue()
		}
		seen[i] = g
		return decodeValue(s, children[i])
	})
	if err != nil {
		return err
	}
	for i, ch := range children {
		if ch != nil && seen[i] != g {
			ch.appendNull()
		}
	}
	return nil
}

func (c *structCol) appendNull() {
	c.valid.push(false)
	for _, ch := range c.children {
		ch.appendNull()
	}
}

func (c *structCol) len() int { return c.valid.n }

func (c *structCol) truncate(n int) {
	c.valid.truncate(n)
	for _, ch := range c.children {
		ch.truncate(n)
	}
}

func (c *structCol) build(mem memory.Allocator) arrow.ArrayData {
	n := c.valid.n
	vb, nulls := c.valid.validityBuffer(mem)
	children := make([]arrow.ArrayData, len(c.children))
	for i, ch := range c.children {
		children[i] = ch.build(mem)
	}
	d := newData(c.dt, n, []*memory.Buffer{vb}, children, nulls)
	c.valid.clear()
	return d
}

// mapCol decodes JSON objects into map<string, V>, keeping every key in
// order (duplicates included).
type mapCol struct {
	dt    *arrow.MapType
	path  string
	valid bitBuf
	offs  []int32
	keys  strCol[int32]
	vals  column
}

func (c *mapCol) decode(s *scanner) error {
	if s.peek() != '{' {
		return convErr(s, c.path, c.dt)
	}
	err := s.members(func(key []byte) error {
		c.keys.appendBytes(key)
		return decodeValue(s, c.vals)
	})
	if err != nil {
		return err
	}
	c.valid.push(true)
	c.offs = append(c.offs, int32(c.vals.len()))
	return nil
}

func (c *mapCol) appendNull() {
	c.valid.push(false)
	c.offs = append(c.offs, c.offs[len(c.offs)-1])
}

func (c *mapCol) len() int { return len(c.offs) - 1 }

func (c *mapCol) truncate(n int) {
	c.valid.truncate(n)
	c.offs = c.offs[:n+1]
	m := int(c.offs[n])
	c.keys.truncate(m)
	c.vals.truncate(m)
}

func (c *mapCol) build(mem memory.Allocator) arrow.ArrayData {
	n := len(c.offs) - 1
	vb, nulls := c.valid.validityBuffer(mem)
	m := c.vals.len()
	entries := newData(c.dt.Elem(), m, []*memory.Buffer{nil}, []arrow.ArrayData{c.keys.build(mem), c.vals.build(mem)}, 0)
	d := newData(c.dt, n, []*memory.Buffer{vb, copyBuffer(mem, sliceBytes(c.offs))}, []arrow.ArrayData{entries}, nulls)
	c.valid.clear()
	c.offs = c.offs[:1]
	return d
}
