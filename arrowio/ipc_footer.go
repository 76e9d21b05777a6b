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

// parseFooterBlocks reads the record batch blocks and dictionary count from
// an IPC file footer flatbuffer.
func parseFooterBlocks(footer []byte) (batches []ipcBlock, numDicts int, err error) {
	root, err := fbRoot(footer)
	if err != nil {
		return nil, 0, err
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
	dicts, err := readBlocks(2)
	if err != nil {
		return nil, 0, err
	}
	batches, err = readBlocks(3)
	return batches, len(dicts), err
}

// messageHeaderRecordBatch is the MessageHeader union tag of a record batch.
const messageHeaderRecordBatch = 3

// batchFacts is what ArrowFile learns about a batch without decoding it.
type batchFacts struct {
	Rows       int64
	Compressed bool
}

// parseBatchMeta reads the row count and compression flag from the
// encapsulated message at the start of meta (the block's metadata bytes:
// optional continuation marker, length prefix, flatbuffer Message).
func parseBatchMeta(meta []byte) (batchFacts, error) {
	n, ok := fbU32(meta, 0)
	if !ok {
		return batchFacts{}, errFlatbuffer
	}
	start := 4
	if n == 0xFFFFFFFF {
		if n, ok = fbU32(meta, 4); !ok {
			return batchFacts{}, errFlatbuffer
		}
		start = 8
	}
	if int64(n) > int64(len(meta)-start) {
		return batchFacts{}, fmt.Errorf("message length %d exceeds its block", n)
	}
	msg, err := fbRoot(meta[start : start+int(n)])
	if err != nil {
		return batchFacts{}, err
	}
	kind, err := msg.uint8Field(1, 0)
	if err != nil {
		return batchFacts{}, err
	}
	if kind != messageHeaderRecordBatch {
		return batchFacts{}, fmt.Errorf("message is of kind %d, not a record batch", kind)
	}
	rb, ok, err := msg.table(2)
	if err != nil || !ok {
		return batchFacts{}, errors.Join(errFlatbuffer, err)
	}
	rows, err := rb.int64Field(0, 0)
	if err != nil {
		return batchFacts{}, err
	}
	if rows < 0 {
		return batchFacts{}, fmt.Errorf("negative row count %d", rows)
	}
	_, compressed, err := rb.table(3)
	if err != nil {
		return batchFacts{}, err
	}
	return batchFacts{Rows: rows, Compressed: compressed}, nil
}

// readFooter locates and parses the footer of an IPC file of the given size.
func readFooter(r io.ReaderAt, size int64) ([]ipcBlock, int, error) {
	const tail = 4 + 6 // footer length + "ARROW1"
	if size < 8+tail {
		return nil, 0, fmt.Errorf("file too small for the Arrow file format (%d bytes)", size)
	}
	var t [tail]byte
	if _, err := r.ReadAt(t[:], size-tail); err != nil {
		return nil, 0, err
	}
	if !bytes.Equal(t[4:], arrowMagic) {
		return nil, 0, errors.New("no ARROW1 magic at the end (truncated file?)")
	}
	flen := int64(int32(binary.LittleEndian.Uint32(t[:4])))
	if flen <= 0 || flen > size-8-tail {
		return nil, 0, fmt.Errorf("footer length %d does not fit the file", flen)
	}
	footer := make([]byte, flen)
	if _, err := r.ReadAt(footer, size-tail-flen); err != nil {
		return nil, 0, err
	}
	blocks, nd, err := parseFooterBlocks(footer)
	if err != nil {
		return nil, 0, fmt.Errorf("footer: %w", err)
	}
	return blocks, nd, nil
}

// readBatchFacts reads the header of every block.
// Errors are *PosError values naming path and the batch, wrapping ErrCorrupt.
func readBatchFacts(r io.ReaderAt, path string, size int64, blocks []ipcBlock) ([]batchFacts, error) {
	facts := make([]batchFacts, len(blocks))
	var meta []byte
	for i, b := range blocks {
		if b.Offset < 0 || b.MetaLength < 8 || b.BodyLength < 0 ||
			b.Offset > size || int64(b.MetaLength) > size-b.Offset || b.BodyLength > size-b.Offset-int64(b.MetaLength) {
			return nil, &PosError{Path: path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: block (offset %d, metadata %d, body %d) lies outside the file", ErrCorrupt, b.Offset, b.MetaLength, b.BodyLength)}
		}
		if cap(meta) < int(b.MetaLength) {
			meta = make([]byte, b.MetaLength)
		}
		meta = meta[:b.MetaLength]
		if _, err := r.ReadAt(meta, b.Offset); err != nil {
			return nil, &PosError{Path: path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
		}
		f, err := parseBatchMeta(meta)
		if err != nil {
			return nil, &PosError{Path: path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: batch header: %v", ErrCorrupt, err)}
		}
		facts[i] = f
	}
	return facts, nil
}
