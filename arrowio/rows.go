package arrowio

// Go structs ⇄ Arrow record batches.
//
// The mapping from a Go struct type to an Arrow schema is computed once per
// type (by reflection) and cached. Encoding binds one small function per
// field to its Arrow builder; decoding resolves one typed accessor per
// column once per batch, then writes Go values through unsafe pointers at
// precomputed field offsets, so no reflection runs per value for scalar,
// string, list and fixed-array fields.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FieldError reports a Go struct field that cannot be mapped to or from an
// Arrow column. It wraps ErrSchema (the column is missing or has a type the
// field cannot hold), ErrUnsupported (the Go type has no Arrow mapping) or
// ErrCorrupt (the batch's data is inconsistent).
type FieldError struct {
	// Type is the row type, as fmt prints it (e.g. "main.Row").
	Type string
	// Field is the Go path of the field, e.g. "Meta.Lang". Empty when the
	// error concerns the whole type.
	Field string
	// Column is the Arrow column path, e.g. "meta.lang", when known.
	Column string
	Err    error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("arrowio: row type ")
	b.WriteString(e.Type)
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " (column %q)", e.Column)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// kind is the shape of a Go type as the row mapping sees it.
type kind uint8

const (
	kBool kind = iota
	kInt
	kUint
	kFloat
	kString
	kBytes      // []byte ⇄ binary
	kFixedBytes // [N]byte ⇄ fixed_size_binary(N)
	kTime       // time.Time ⇄ timestamp[us, UTC]
	kDuration   // time.Duration ⇄ duration[ns]
	kStruct
	kList      // []E ⇄ list<E>
	kFixedList // [N]E ⇄ fixed_size_list<E>[N]
	kMap       // map[K]V ⇄ map<K, V>
	kPtr       // *E ⇄ E, nullable
)

// node is the cached mapping of one Go type.
type node struct {
	kind     kind
	rt       reflect.Type
	size     uintptr
	bits     int // width of ints, uints and floats
	n        int // length of fixed arrays
	elem     *node
	key      *node
	fields   []fieldNode
	dt       arrow.DataType
	nullable bool
}

// fieldNode is one (possibly promoted) field of a struct.
type fieldNode struct {
	name     string  // Arrow column name
	goPath   string  // e.g. "Meta.Lang" or "Base.ID" for promoted fields
	offset   uintptr // from the start of the outer struct
	optional bool    // `quiver:",optional"`: a missing column leaves it zero
	node     *node
}

type typeInfo struct {
	root   *node
	schema *arrow.Schema
	err    error
}

var typeCache sync.Map // reflect.Type → *typeInfo

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
)

func infoFor[T any]() *typeInfo {
	rt := reflect.TypeFor[T]()
	if v, ok := typeCache.Load(rt); ok {
		return v.(*typeInfo)
	}
	info := buildInfo(rt)
	v, _ := typeCache.LoadOrStore(rt, info)
	return v.(*typeInfo)
}

func buildInfo(rt reflect.Type) *typeInfo {
	if rt.Kind() != reflect.Struct || rt == timeType {
		return &typeInfo{err: &FieldError{Type: rt.String(),
			Err: fmt.Errorf("%w: row type must be a struct, not %s", ErrUnsupported, rt)}}
	}
	m := mapper{root: rt, visiting: map[reflect.Type]bool{}}
	root, err := m.nodeOf(rt, "")
	if err != nil {
		return &typeInfo{err: err}
	}
	fields := make([]arrow.Field, len(root.fields))
	for i, f := range root.fields {
		fields[i] = arrow.Field{Name: f.name, Type: f.node.dt, Nullable: f.node.nullable}
	}
	return &typeInfo{root: root, schema: arrow.NewSchema(fields, nil)}
}

type mapper struct {
	root     reflect.Type
	visiting map[reflect.Type]bool
}

func (m *mapper) errf(goPath string, sentinel error, format string, args ...any) error {
	return &FieldError{Type: m.root.String(), Field: goPath,
		Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

func (m *mapper) nodeOf(rt reflect.Type, goPath string) (*node, error) {
	n := &node{rt: rt, size: rt.Size()}
	switch rt {
	case timeType:
		n.kind, n.dt = kTime, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		return n, nil
	case durationType:
		n.kind, n.dt = kDuration, arrow.FixedWidthTypes.Duration_ns
		return n, nil
	}
	switch rt.Kind() {
	case reflect.Bool:
		n.kind, n.dt = kBool, arrow.FixedWidthTypes.Boolean
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n.kind, n.bits = kInt, rt.Bits()
		n.dt = [...]arrow.DataType{8: arrow.PrimitiveTypes.Int8, 16: arrow.PrimitiveTypes.Int16,
			32: arrow.PrimitiveTypes.Int32, 64: arrow.PrimitiveTypes.Int64}[n.bits]
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n.kind, n.bits = kUint, rt.Bits()
		n.dt = [...]arrow.DataType{8: arrow.PrimitiveTypes.Uint8, 16: arrow.PrimitiveTypes.Uint16,
			32: arrow.PrimitiveTypes.Uint32, 64: arrow.PrimitiveTypes.Uint64}[n.bits]
	case reflect.Float32:
		n.kind, n.bits, n.dt = kFloat, 32, arrow.PrimitiveTypes.Float32
	case reflect.Float64:
		n.kind, n.bits, n.dt = kFloat, 64, arrow.PrimitiveTypes.Float64
	case reflect.String:
		n.kind, n.dt = kString, arrow.BinaryTypes.String
	case reflect.Pointer:
		elem, err := m.nodeOf(rt.Elem(), goPath)
		if err != nil {
			return nil, err
		}
		n.kind, n.elem, n.dt, n.nullable = kPtr, elem, elem.dt, true
	case reflect.Slice:
		if rt.Elem().Kind() == reflect.Uint8 {
			n.kind, n.dt, n.nullable = kBytes, arrow.BinaryTypes.Binary, true
			break
		}
		elem, err := m.nodeOf(rt.Elem(), goPath+"[]")
		if err != nil {
			return nil, err
		}
		n.kind, n.elem, n.nullable = kList, elem, true
		n.dt = arrow.ListOfField(arrow.Field{Name: "item", Type: elem.dt, Nullable: elem.nullable})
	case reflect.Array:
		n.n = rt.Len()
		if rt.Elem().Kind() == reflect.Uint8 {
			n.kind, n.dt = kFixedBytes, &arrow.FixedSizeBinaryType{ByteWidth: n.n}
			break
		}
		elem, err := m.nodeOf(rt.Elem(), goPath+"[]")
		if err != nil {
			return nil, err
		}
		n.kind, n.elem = kFixedList, elem
		n.dt = arrow.FixedSizeListOfField(int32(n.n), arrow.Field{Name: "item", Type: elem.dt, Nullable: elem.nullable})
	case reflect.Map:
		switch rt.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			return nil, m.errf(goPath, ErrUnsupported, "map key type %s is not a string or an integer", rt.Key())
		}
		key, err := m.nodeOf(rt.Key(), goPath+"[key]")
		if err != nil {
			return nil, err
		}
		elem, err := m.nodeOf(rt.Elem(), goPath+"[value]")
		if err != nil {
			return nil, err
		}
		mt := arrow.MapOf(key.dt, elem.dt)
		mt.SetItemNullable(elem.nullable)
		n.kind, n.key, n.elem, n.dt, n.nullable = kMap, key, elem, mt, true
	case reflect.Struct:
		if m.visiting[rt] {
			return nil, m.errf(goPath, ErrUnsupported, "recursive type %s", rt)
		}
		m.visiting[rt] = true
		defer delete(m.visiting, rt)
		fields, err := m.structFields(rt, goPath)
		if err != nil {
			return nil, err
		}
		af := make([]arrow.Field, len(fields))
		for i, f := range fields {
			af[i] = arrow.Field{Name: f.name, Type: f.node.dt, Nullable: f.node.nullable}
		}
		n.kind, n.fields, n.dt = kStruct, fields, arrow.StructOf(af...)
	default:
		return nil, m.errf(goPath, ErrUnsupported, "Go type %s has no Arrow mapping", rt)
	}
	return n, nil
}

// candidate is a field found while walking a struct and its embedded
// structs, before name conflicts are resolved.
type candidate struct {
	fieldNode
	rt     reflect.Type
	depth  int
	tagged bool
}

// structFields lists the mapped fields of struct type rt the way
// encoding/json does: exported fields, promoted fields of embedded structs,
// and for a name found more than once the shallowest one wins; at equal
// depth a single tagged field wins, otherwise the name is dropped.
func (m *mapper) structFields(rt reflect.Type, goPath string) ([]fieldNode, error) {
	var cands []candidate
	var walk func(t reflect.Type, prefix string, base uintptr, depth int) error
	walk = func(t reflect.Type, prefix string, base uintptr, depth int) error {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("quiver")
			name, opts, _ := strings.Cut(tag, ",")
			if tag == "-" {
				continue
			}
			optional := false
			for o := range strings.SplitSeq(opts, ",") {
				optional = optional || o == "optional"
			}
			path := prefix + sf.Name
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
					if !sf.IsExported() {
						continue
					}
					return m.errf(path, ErrUnsupported, "embedded pointer %s is not supported; embed the struct by value or tag the field", ft)
				}
				if ft.Kind() == reflect.Struct && ft != timeType {
					if err := walk(ft, path+".", base+sf.Offset, depth+1); err != nil {
						return err
					}
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			tagged := name != ""
			if name == "" {
				name = sf.Name
			}
			cands = append(cands, candidate{
				fieldNode: fieldNode{name: name, goPath: path, offset: base + sf.Offset, optional: optional},
				rt:        sf.Type, depth: depth, tagged: tagged,
			})
		}
		return nil
	}
	prefix := ""
	if goPath != "" {
		prefix = goPath + "."
	}
	if err := walk(rt, prefix, 0, 0); err != nil {
		return nil, err
	}
	// Resolve conflicts, keeping the order of first appearance.
	byName := map[string][]int{}
	var order []string
	for i, c := range cands {
		if _, ok := byName[c.name]; !ok {
			order = append(order, c.name)
		}
		byName[c.name] = append(byName[c.name], i)
	}
	var out []fieldNode
	for _, name := range order {
		idx := byName[name]
		minDepth := cands[idx[0]].depth
		for _, i := range idx {
			minDepth = min(minDepth, cands[i].depth)
		}
		var top, tagged []int
		for _, i := range idx {
			if cands[i].depth == minDepth {
				top = append(top, i)
				if cands[i].tagged {
					tagged = append(tagged, i)
				}
			}
		}
		pick := -1
		switch {
		case len(top) == 1:
			pick = top[0]
		case len(tagged) == 1:
			pick = tagged[0]
		}
		if pick < 0 {
			continue
		}
		c := cands[pick]
		nd, err := m.nodeOf(c.rt, c.goPath)
		if err != nil {
			return nil, err
		}
		c.node = nd
		out = append(out, c.fieldNode)
	}
	return out, nil
}

// SchemaOf returns the Arrow schema of struct type T. The result is computed
// once per type and cached; it is safe for concurrent use.
//
// Mapping rules:
//   - A field's column name is its `quiver:"name"` tag, or else the Go field
//     name. `quiver:"-"` skips the field. The option `quiver:"name,optional"`
//     (or `quiver:",optional"`) lets AppendRows leave the field at its zero
//     value when the batch has no such column; other options are ignored.
//     Unexported fields are ignored.
//   - Embedded structs (by value) are flattened as encoding/json does: the
//     shallowest field of a name wins, then a single tagged one; otherwise
//     the name is dropped. An embedded struct with a tag name is an ordinary
//     struct column. Embedded pointers to structs are ErrUnsupported.
//   - bool, int8…int64, uint8…uint64, float32, float64 and string map to the
//     same Arrow types (int and uint to 64 bits); []byte to binary; [N]byte
//     to fixed_size_binary(N); time.Time to timestamp[us, UTC];
//     time.Duration to duration[ns]; structs to struct; []E to list<E>; [N]E
//     to fixed_size_list<E>[N]; map[K]V to map<K, V> with K a string or an
//     integer.
//   - Pointers, slices, []byte and maps are nullable: nil is null. Other
//     fields are not nullable.
//
// Other kinds (interfaces, channels, functions, complex numbers) and
// recursive types are an error wrapping ErrUnsupported, as *FieldError.
func SchemaOf[T any]() (*arrow.Schema, error) {
	info := infoFor[T]()
	return info.schema, info.err
}

// BatchFromRows returns a record batch holding rows, with the schema of
// SchemaOf[T], allocated from mem (nil means memory.DefaultAllocator). The
// caller owns the batch and must Release it. Map entries are written in
// ascending key order so the output is deterministic.
func BatchFromRows[T any](mem memory.Allocator, rows []T) (arrow.RecordBatch, error) {
	b, err := NewRowBuilder[T](mem)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	if err := b.AppendRows(rows); err != nil {
		return nil, err
	}
	return b.NewBatch(), nil
}

// RowBuilder accumulates Go rows of struct type T into Arrow record batches,
// reusing its builders from one batch to the next. It is not safe for
// concurrent use. The caller must call Release when done.
type RowBuilder[T any] struct {
	info    *typeInfo
	rb      *array.RecordBuilder
	encs    []fieldEnc
	scratch T
	n       int
}

type fieldEnc struct {
	offset  uintptr
	enc     encFn
	reserve reserveFn // nil when reserving ahead does not pay
}

// NewRowBuilder returns a RowBuilder for T allocating from mem (nil means
// memory.DefaultAllocator). It fails, with the error of SchemaOf, when T has
// no Arrow mapping.
func NewRowBuilder[T any](mem memory.Allocator) (*RowBuilder[T], error) {
	info := infoFor[T]()
	if info.err != nil {
		return nil, info.err
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	rb := array.NewRecordBuilder(mem, info.schema)
	b := &RowBuilder[T]{info: info, rb: rb}
	for i, f := range info.root.fields {
		b.encs = append(b.encs, fieldEnc{f.offset, f.node.encoder(rb.Field(i)), f.node.reserver(rb.Field(i))})
	}
	return b, nil
}

var errReleased = errors.New("arrowio: RowBuilder used after Release")

// Schema returns the schema of the batches the builder makes.
func (b *RowBuilder[T]) Schema() *arrow.Schema { return b.info.schema }

// Append adds one row. The row's values are copied; the builder keeps no
// reference to them. It fails only after Release.
func (b *RowBuilder[T]) Append(row T) error {
	if b.rb == nil {
		return errReleased
	}
	b.scratch = row
	b.appendAt(unsafe.Pointer(&b.scratch))
	var zero T
	b.scratch = zero
	return nil
}

// AppendRows adds every row of rows, without copying each row first. It
// fails only after Release.
func (b *RowBuilder[T]) AppendRows(rows []T) error {
	if b.rb == nil {
		return errReleased
	}
	if len(rows) == 0 {
		return nil
	}
	b.rb.Reserve(len(rows))
	base := unsafe.Pointer(unsafe.SliceData(rows))
	size := unsafe.Sizeof(rows[0])
	for _, e := range b.encs {
		if e.reserve != nil {
			e.reserve(unsafe.Add(base, e.offset), size, len(rows))
		}
	}
	for i := range rows {
		b.appendAt(unsafe.Add(base, uintptr(i)*size))
	}
	return nil
}

func (b *RowBuilder[T]) appendAt(p unsafe.Pointer) {
	for _, e := range b.encs {
		e.enc(unsafe.Add(p, e.offset))
	}
	b.n++
}

// NumRows returns the number of rows appended since the last NewBatch.
func (b *RowBuilder[T]) NumRows() int { return b.n }

// NewBatch returns a batch of the rows appended since the last call (zero
// rows if none) and resets the builder. The caller owns the batch and must
// Release it. NewBatch must not be called after Release.
func (b *RowBuilder[T]) NewBatch() arrow.RecordBatch {
	b.n = 0
	return b.rb.NewRecordBatch()
}

// Release frees the builder's buffers. Batches already returned stay valid.
// Release is idempotent.
func (b *RowBuilder[T]) Release() {
	if b.rb != nil {
		b.rb.Release()
		b.rb = nil
	}
}

// AppendRows decodes every row of batch into a T and appends it to dst,
// returning the extended slice.
//
// Columns are matched to fields by name (exactly, or else by a unique
// case-insensitive match), so column order does not matter and extra
// columns are ignored. A field with no column (unless tagged optional), or
// whose column has a type it cannot hold, is an error wrapping ErrSchema
// that names both. A T with no Arrow mapping gives SchemaOf's error
// (ErrUnsupported); a batch whose arrays are inconsistent (offsets past
// their values) gives one wrapping ErrCorrupt. All errors are *FieldError.
// On error dst is returned with its original length.
//
// Conversions: integers widen to wider integers of the same sign and
// unsigned integers to wider signed ones (never narrower: no overflow is
// possible); any number fills a float32 or float64 field, rounded to the
// nearest value as a Go conversion does (so float64 JSON numbers fill
// float32 embeddings); string, large_string and string_view columns fill strings; binary kinds
// (and strings) fill []byte; timestamps of any unit and zone, date32 and
// date64 fill time.Time, always in UTC; durations of any unit fill
// time.Duration; list, large_list and fixed_size_list fill slices; a [N]E
// array takes fixed_size_list<E>[N] or lists whose every value has length N
// (an error wrapping ErrSchema names the first row that does not), and a
// [N]byte array likewise fixed_size_binary(N) or binary values of N bytes;
// dictionary columns are decoded to their values; a column of type null
// leaves fields at their zero value.
//
// Nulls: a null becomes nil in a pointer, slice, []byte or map field, and
// the zero value in any other field.
//
// Decoded values own their memory: nothing aliases the batch, which may be
// released right after. Strings, []byte, slices and pointer targets decoded
// from one column of one batch share one backing array per column (each
// slice has its capacity capped, so append never writes into a neighbour);
// a row kept alive keeps those backing arrays alive.
func AppendRows[T any](dst []T, batch arrow.RecordBatch) (out []T, err error) {
	info := infoFor[T]()
	if info.err != nil {
		return dst, info.err
	}
	old := len(dst)
	n := int(batch.NumRows())
	defer func() {
		if r := recover(); r != nil {
			out, err = dst[:old], &FieldError{Type: info.root.rt.String(),
				Err: fmt.Errorf("%w: decoding batch: %v", ErrCorrupt, r)}
		}
	}()
	d := decoder{root: info.root.rt}
	schema := batch.Schema()
	type column struct {
		off uintptr
		dec dec
	}
	cols := make([]column, 0, len(info.root.fields))
	for _, f := range info.root.fields {
		idx := lookupField(schema.Fields(), f.name)
		if idx < 0 && f.optional {
			continue
		}
		if idx < 0 {
			return dst, &FieldError{Type: info.root.rt.String(), Field: f.goPath, Column: f.name,
				Err: fmt.Errorf("%w: no column %q in the batch", ErrSchema, f.name)}
		}
		dc, err := d.prepare(f.node, batch.Column(idx), f.goPath, f.name)
		if err != nil {
			return dst, err
		}
		cols = append(cols, column{f.offset, dc})
	}
	if n == 0 {
		return dst, nil
	}
	dst = slices.Grow(dst, n)[:old+n]
	rows := dst[old:]
	clear(rows)
	base := unsafe.Pointer(unsafe.SliceData(rows))
	stride := unsafe.Sizeof(rows[0])
	for _, c := range cols {
		p := unsafe.Add(base, c.off)
		if c.dec.fill != nil {
			c.dec.fill(p, stride, n)
			continue
		}
		set := c.dec.set
		for i := range n {
			set(unsafe.Add(p, uintptr(i)*stride), i)
		}
	}
	return dst, nil
}

// lookupField finds name among fields: an exact match first, else a unique
// case-insensitive one. It returns -1 when there is none.
func lookupField(fields []arrow.Field, name string) int {
	fold := -1
	for i, f := range fields {
		if f.Name == name {
			return i
		}
		if strings.EqualFold(f.Name, name) {
			if fold >= 0 {
				fold = -2
			} else if fold == -1 {
				fold = i
			}
		}
	}
	if fold < 0 {
		return -1
	}
	return fold
}
