package arrowio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// This file reads the few facts ArrowFile needs from an IPC file footer and
// from record batch message headers (row counts, compression) without
// decoding a batch. It walks the flatbuffers by hand with bounds checks on
// every access, so damaged input yields an error instead of a panic.

// arrowMagic opens and closes the Arrow IPC file format.
var arrowMagic = []byte("ARROW1")

// ipcBlock locates one message in an IPC file, as listed by the footer.
type ipcBlock struct {
	Offset     int64
	MetaLength int32
	BodyLength int64
}

var errFlatbuffer = errors.New("malformed flatbuffer")

// fbTable is a bounds-checked view of one flatbuffer table.
type fbTable struct {
	buf []byte
	pos int // table start
	vt  int // vtable start
	vtn int // vtable size in bytes
}

func fbU32(buf []byte, at int) (uint32, bool) {
	if at < 0 || at+4 > len(buf) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(buf[at:]), true
}

// fbRoot returns the root table of a flatbuffer.
func fbRoot(buf []byte) (fbTable, error) {
	off, ok := fbU32(buf, 0)
	if !ok {
		return fbTable{}, errFlatbuffer
	}
	return fbTableAt(buf, int(off))
}

func fbTableAt(buf []byte, pos int) (fbTable, error) {
	so, ok := fbU32(buf, pos)
	if !ok {
		return fbTable{}, errFlatbuffer
	}
	vt := pos - int(int32(so))
	if vt < 0 || vt+4 > len(buf) {
		return fbTable{}, errFlatbuffer
	}
	vtn := int(binary.LittleEndian.Uint16(buf[vt:]))
	if vtn < 4 || vt+vtn > len(buf) {
		return fbTable{}, errFlatbuffer
	}
	return fbTable{buf: buf, pos: pos, vt: vt, vtn: vtn}, nil
}

// field returns the absolute position of field i, or -1 when absent.
func (t fbTable) field(i, size int) (int, error) {
	slot := 4 + 2*i
	if slot+2 > t.vtn {
		return -1, nil
	}
	o := int(binary.LittleEndian.Uint16(t.buf[t.vt+slot:]))
	if o == 0 {
		return -1, nil
	}
	at := t.pos + o
	if at+size > len(t.buf) {
		return -1, errFlatbuffer
	}
	return at, nil
}

func (t fbTable) int64Field(i int, def int64) (int64, error) {
	at, err := t.field(i, 8)
	if err != nil || at < 0 {
		return def, err
	}
	return int64(binary.LittleEndian.Uint64(t.buf[at:])), nil
}

func (t fbTable) uint8Field(i int, def uint8) (uint8, error) {
	at, err := t.field(i, 1)
	if err != nil || at < 0 {
		return def, err
	}
	return t.buf[at], nil
}

// ref follows an offset field to its target position, or -1 when absent.
func (t fbTable) ref(i int) (int, error) {
	at, err := t.field(i, 4)
	if err != nil || at < 0 {
		return -1, err
	}
	off, _ := fbU32(t.buf, at)
	target := at + int(off)
	if target >= len(t.buf) {
		return -1, errFlatbuffer
	}
	return target, nil
}

func (t fbTable) table(i int) (fbTable, bool, error) {
	at, err := t.ref(i)
	if err != nil || at < 0 {
		return fbTable{}, false, err
	}
	sub, err := fbTableAt(t.buf, at)
	return sub, err == nil, err
}

// parseFooterBlocks reads the record batch and dictionary blocks from
// an IPC file footer flatbuffer.
func parseFooterBlocks(footer []byte) (batches, dicts []ipcBlock, err error) {
	root, err := fbRoot(footer)
	if err != nil {
		return nil, nil, err
	}
	readBlocks := func(field int) ([]ipcBlock, error) {
		at, err := root.ref(field)
		if err != nil || at < 0 {
			return nil, err
		}
		n, ok := fbU32(footer, at)
		if !ok || int64(n)*24 > int64(len(footer)-at-4) {
			return nil, errFlatbuffer
		}
		blocks := make([]ipcBlock, n)
		for i := range blocks {
			b := footer[at+4+24*i:]
			blocks[i] = ipcBlock{
				Offset:     int64(binary.LittleEndian.Uint64(b)),
				MetaLength: int32(binary.LittleEndian.Uint32(b[8:])),
				BodyLength: int64(binary.LittleEndian.Uint64(b[16:])),
			}
		}
		return blocks, nil
	}
	if dicts, err = readBlocks(2); err != nil {
		return nil, nil, err
	}
	batches, err = readBlocks(3)
	return batches, dicts, err
}

// MessageHeader union tags of schemas, dictionary and record batches.
const (
	messageHeaderSchema          = 1
	messageHeaderDictionaryBatch = 2
	messageHeaderRecordBatch     = 3
)

// batchFacts is what ArrowFile learns about a batch without decoding it.
type batchFacts struct {
	Rows       int64
	Compressed bool
	Kind       uint8 // messageHeaderRecordBatch or messageHeaderDictionaryBatch
}

// parseBatchMeta reads the row count and compression flag from the
// encapsulated message at the start of meta (the block's metadata bytes:
// optional continuation marker, length prefix, flatbuffer Message).
func parseBatchMeta(meta []byte) (batchFacts, error) {
	fb, _, err := messagePrefix(meta, 0)
	if err != nil {
		return batchFacts{}, err
	}
	if fb == nil {
		return batchFacts{}, errors.New("end-of-stream marker where a batch should be")
	}
	if err := validateMessageFB(fb); err != nil {
		return batchFacts{}, err
	}
	m, err := parseMessage(fb)
	if err != nil {
		return batchFacts{}, err
	}
	if m.Kind != messageHeaderRecordBatch && m.Kind != messageHeaderDictionaryBatch {
		return batchFacts{}, fmt.Errorf("message is of kind %d, not a record or dictionary batch", m.Kind)
	}
	f := m.batchFacts
	f.Kind = m.Kind
	return f, nil
}

// messagePrefix returns the flatbuffer of the encapsulated message at off
// in data (after the optional continuation marker and the length) and the
// offset just past it. A nil flatbuffer means an end-of-stream marker.
func messagePrefix(data []byte, off int64) (fb []byte, end int64, err error) {
	if off < 0 || off > int64(len(data)) {
		return nil, 0, fmt.Errorf("message offset %d outside the data", off)
	}
	n, ok := fbU32(data, int(off))
	if !ok {
		return nil, 0, errors.New("truncated message length")
	}
	start := off + 4
	if n == 0xFFFFFFFF {
		if n, ok = fbU32(data, int(start)); !ok {
			return nil, 0, errors.New("truncated message length")
		}
		start += 4
	}
	if n == 0 {
		return nil, start, nil
	}
	if int64(n) > int64(len(data))-start || int32(n) < 4 {
		return nil, 0, fmt.Errorf("message length %d does not fit", int32(n))
	}
	return data[start : start+int64(n)], start + int64(n), nil
}

// ipcMessageInfo is what parseMessage reads from a Message flatbuffer.
type ipcMessageInfo struct {
	Kind    uint8
	BodyLen int64
	batchFacts
}

// parseMessage reads the header kind, body length and, for record
// batches, the row count and compression of a Message flatbuffer.
func parseMessage(fb []byte) (ipcMessageInfo, error) {
	var m ipcMessageInfo
	msg, err := fbRoot(fb)
	if err != nil {
		return m, err
	}
	if m.Kind, err = msg.uint8Field(1, 0); err != nil {
		return m, err
	}
	if m.BodyLen, err = msg.int64Field(3, 0); err != nil {
		return m, err
	}
	if m.BodyLen < 0 {
		return m, fmt.Errorf("negative body length %d", m.BodyLen)
	}
	if m.Kind != messageHeaderRecordBatch {
		return m, nil
	}
	rb, ok, err := msg.table(2)
	if err != nil || !ok {
		return m, errors.Join(errFlatbuffer, err)
	}
	if m.Rows, err = rb.int64Field(0, 0); err != nil {
		return m, err
	}
	if m.Rows < 0 {
		return m, fmt.Errorf("negative row count %d", m.Rows)
	}
	_, m.Compressed, err = rb.table(3)
	return m, err
}

// readFooter locates and parses the footer of an IPC file of the given size.
func readFooter(r io.ReaderAt, size int64) (batches, dicts []ipcBlock, err error) {
	const tail = 4 + 6 // footer length + "ARROW1"
	if size < 8+tail {
		return nil, nil, fmt.Errorf("file too small for the Arrow file format (%d bytes)", size)
	}
	var t [tail]byte
	if _, err := r.ReadAt(t[:], size-tail); err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(t[4:], arrowMagic) {
		return nil, nil, errors.New("no ARROW1 magic at the end (truncated file?)")
	}
	flen := int64(int32(binary.LittleEndian.Uint32(t[:4])))
	if flen <= 0 || flen > size-8-tail {
		return nil, nil, fmt.Errorf("footer length %d does not fit the file", flen)
	}
	footer := make([]byte, flen)
	if _, err := r.ReadAt(footer, size-tail-flen); err != nil {
		return nil, nil, err
	}
	if batches, dicts, err = parseFooterBlocks(footer); err != nil {
		return nil, nil, fmt.Errorf("footer: %w", err)
	}
	if err := validateFooterFB(footer); err != nil {
		return nil, nil, fmt.Errorf("footer: %w", err)
	}
	return batches, dicts, nil
}

// readBatchFacts reads the header of every block.
// Errors are *PosError values naming path and the batch, wrapping ErrCorrupt.
func readBatchFacts(r io.ReaderAt, path string, size int64, blocks []ipcBlock) ([]batchFacts, error) {
	facts := make([]batchFacts, len(blocks))
	var meta []byte
	for i, b := range blocks {
		f, err := readBlockFacts(r, path, size, b, i, &meta)
		if err != nil {
			return nil, err
		}
		facts[i] = f
	}
	return facts, nil
}

// checkBlockBounds reports a block that does not lie inside a file of size
// bytes, as a *PosError naming batch i.
func checkBlockBounds(path string, size int64, b ipcBlock, i int) error {
	if b.Offset < 0 || b.MetaLength < 8 || b.BodyLength < 0 ||
		b.Offset > size || int64(b.MetaLength) > size-b.Offset || b.BodyLength > size-b.Offset-int64(b.MetaLength) {
		return &PosError{Path: path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: block (offset %d, metadata %d, body %d) lies outside the file", ErrCorrupt, b.Offset, b.MetaLength, b.BodyLength)}
	}
	return nil
}

// readBlockFacts reads and checks the header of block b, batch i of the
// file. buf is scratch space, grown as needed.
func readBlockFacts(r io.ReaderAt, path string, size int64, b ipcBlock, i int, buf *[]byte) (batchFacts, error) {
	if err := checkBlockBounds(path, size, b, i); err != nil {
		return batchFacts{}, err
	}
	meta := *buf
	if cap(meta) < int(b.MetaLength) {
		meta = make([]byte, b.MetaLength)
		*buf = meta
	}
	meta = meta[:b.MetaLength]
	if _, err := r.ReadAt(meta, b.Offset); err != nil {
		return batchFacts{}, &PosError{Path: path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	f, err := parseBatchMeta(meta)
	if err != nil {
		return batchFacts{}, &PosError{Path: path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: batch header: %v", ErrCorrupt, err)}
	}
	return f, nil
}

// Validation of flatbuffer vector lengths. arrow-go sizes slices by the
// vector lengths it finds in schemas (make([]arrow.Field, n)) before
// reading any element, so a damaged length makes it allocate terabytes and
// the process dies with an unrecoverable out-of-memory error. These checks
// run before arrow-go sees a schema or message: every vector Arrow's
// metadata can hold must fit inside its buffer, and nesting is bounded.

// maxFieldDepth bounds schema nesting (arrow-go recurses per level).
const maxFieldDepth = 64

// vector checks the vector in field i of t, whose elements take elem
// bytes, and returns its element count and the position of element 0.
func (t fbTable) vector(i, elem int) (n, at int, err error) {
	pos, err := t.ref(i)
	if err != nil || pos < 0 {
		return 0, -1, err
	}
	c, ok := fbU32(t.buf, pos)
	if !ok || int64(c)*int64(elem) > int64(len(t.buf)-pos-4) {
		return 0, -1, fmt.Errorf("vector of %d elements does not fit its buffer", c)
	}
	return int(c), pos + 4, nil
}

// tableVector checks a vector of tables and calls each for every element.
func (t fbTable) tableVector(i int, each func(fbTable) error) error {
	n, at, err := t.vector(i, 4)
	if err != nil || at < 0 {
		return err
	}
	for k := range n {
		off, _ := fbU32(t.buf, at+4*k)
		sub, err := fbTableAt(t.buf, at+4*k+int(off))
		if err != nil {
			return err
		}
		if each != nil {
			if err := each(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateField(f fbTable, depth int) error {
	if depth > maxFieldDepth {
		return fmt.Errorf("schema nested deeper than %d levels", maxFieldDepth)
	}
	if err := f.tableVector(5, func(c fbTable) error { return validateField(c, depth+1) }); err != nil {
		return err
	}
	return f.tableVector(6, nil) // custom_metadata
}

// validateSchemaFB checks a Schema table.
func validateSchemaFB(s fbTable) error {
	if err := s.tableVector(1, func(f fbTable) error { return validateField(f, 0) }); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if err := s.tableVector(2, nil); err != nil {
		return fmt.Errorf("schema metadata: %w", err)
	}
	if _, _, err := s.vector(3, 8); err != nil {
		return fmt.Errorf("schema features: %w", err)
	}
	return nil
}

// validateRecordBatchFB checks a RecordBatch table.
func validateRecordBatchFB(rb fbTable) error {
	for _, v := range []struct{ field, elem int }{{1, 16}, {2, 16}, {4, 8}} {
		if _, _, err := rb.vector(v.field, v.elem); err != nil {
			return fmt.Errorf("record batch: %w", err)
		}
	}
	return nil
}

// validateMessageFB checks a Message flatbuffer before arrow-go reads it.
func validateMessageFB(fb []byte) error {
	msg, err := fbRoot(fb)
	if err != nil {
		return err
	}
	if err := msg.tableVector(4, nil); err != nil {
		return fmt.Errorf("message metadata: %w", err)
	}
	kind, hdr, ok, err := messageHeader(msg)
	if err != nil || !ok {
		return err
	}
	if kind == messageHeaderSchema {
		return validateSchemaFB(hdr)
	}
	rb, ok, err := batchTable(kind, hdr)
	if err != nil || !ok {
		return err
	}
	return validateRecordBatchFB(rb)
}

// messageHeader returns the header kind of the Message table msg and its
// header table; ok is false when the message has no header.
func messageHeader(msg fbTable) (kind uint8, hdr fbTable, ok bool, err error) {
	if kind, err = msg.uint8Field(1, 0); err != nil {
		return 0, fbTable{}, false, err
	}
	hdr, ok, err = msg.table(2)
	return kind, hdr, ok, err
}

// batchTable returns the RecordBatch table of a message header of the
// given kind: the header itself for a record batch, its data for a
// dictionary batch. ok is false for other kinds and for a dictionary batch
// without data.
func batchTable(kind uint8, hdr fbTable) (rb fbTable, ok bool, err error) {
	switch kind {
	case messageHeaderRecordBatch:
		return hdr, true, nil
	case messageHeaderDictionaryBatch:
		return hdr.table(1)
	}
	return fbTable{}, false, nil
}

// validateFooterFB checks the schema and metadata of a Footer.
func validateFooterFB(fb []byte) error {
	root, err := fbRoot(fb)
	if err != nil {
		return err
	}
	s, ok, err := root.table(1)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("footer has no schema")
	}
	if err := validateSchemaFB(s); err != nil {
		return err
	}
	return root.tableVector(4, nil)
}

// maxDecompressed is the largest uncompressed size accepted for one
// compressed buffer of compressed length n. arrow-go allocates the size a
// buffer claims before decompressing it, so a damaged claim could exhaust
// memory. Real buffers stay far below: 1 GiB, or 1024 times the
// compressed size for larger buffers.
func maxDecompressed(n int64) int64 { return max(1<<30, n*1024) }

// checkCompressedBody checks the uncompressed-size prefix of every
// compressed buffer of the record or dictionary batch whose Message
// flatbuffer is fb and whose body starts at bodyAt in r. Messages without
// compression pass untouched.
func checkCompressedBody(fb []byte, r io.ReaderAt, bodyAt, bodyLen int64) error {
	msg, err := fbRoot(fb)
	if err != nil {
		return err
	}
	kind, hdr, ok, err := messageHeader(msg)
	if err != nil || !ok {
		return err
	}
	rb, ok, err := batchTable(kind, hdr)
	if err != nil || !ok {
		return err
	}
	if _, compressed, err := rb.table(3); err != nil || !compressed {
		return err
	}
	n, at, err := rb.vector(2, 16)
	if err != nil || at < 0 {
		return err
	}
	var prefix [8]byte
	for k := range n {
		e := rb.buf[at+16*k:]
		off := int64(binary.LittleEndian.Uint64(e))
		length := int64(binary.LittleEndian.Uint64(e[8:]))
		if length == 0 {
			continue
		}
		if off < 0 || length < 8 || off > bodyLen || length > bodyLen-off {
			return fmt.Errorf("compressed buffer %d (offset %d, length %d) lies outside the body", k, off, length)
		}
		if _, err := r.ReadAt(prefix[:], bodyAt+off); err != nil {
			return err
		}
		size := int64(binary.LittleEndian.Uint64(prefix[:]))
		if size != -1 && (size < 0 || size > maxDecompressed(length)) {
			return fmt.Errorf("compressed buffer %d claims %d bytes uncompressed from %d", k, size, length)
		}
	}
	return nil
}
