package arrowio

// Splitting JSON Lines input into newline-aligned chunks, and decoding one
// chunk into record batches.

import (
	"bytes"
	"errors"
	"io"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// defaultChunkSize is the nominal size of the chunks JSON Lines input is cut
// into. A chunk ends at the last newline within its first defaultChunkSize
// bytes (or later, for a longer line), so chunk boundaries depend only on
// the data, never on read sizes or worker counts.
const defaultChunkSize = 4 << 20

// chunk is a run of whole lines.
type chunk struct {
	seq       int
	data      []byte
	firstLine int64 // 1-based line number of data[0]
	bom       bool  // data starts with a UTF-8 byte order mark to skip
}

// chunker cuts a stream into chunks.
type chunker struct {
	r        io.Reader
	size     int
	carry    []byte // bytes after the last newline of the previous chunk
	line     int64  // line number of the next chunk
	seq      int
	eof      bool
	bomCheck bool
}

func newChunker(r io.Reader, size int) *chunker {
	if size <= 0 {
		size = defaultChunkSize
	}
	return &chunker{r: r, size: size, line: 1, bomCheck: true}
}

// next fills buf (whose capacity is reused) with the next chunk. It returns
// io.EOF when the input is exhausted.
func (c *chunker) next(buf []byte) (chunk, error) {
	if c.eof && len(c.carry) == 0 {
		return chunk{}, io.EOF
	}
	if cap(buf) < c.size {
		buf = make([]byte, 0, c.size)
	}
	buf = append(buf[:0], c.carry...)
	c.carry = c.carry[:0]
	searched := 0 // bytes of buf known to hold no newline
	for {
		if !c.eof && len(buf) < cap(buf) {
			n, err := readFull(c.r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				c.eof = true
			} else if err != nil {
				return chunk{}, err
			}
		}
		if c.eof {
			break // the rest, newline-terminated or not, is the last chunk
		}
		if i := bytes.LastIndexByte(buf[searched:], '\n'); i >= 0 {
			end := searched + i + 1
			c.carry = append(c.carry, buf[end:]...)
			buf = buf[:end]
			break
		}
		// One line longer than the buffer: grow and read on.
		searched = len(buf)
		nb := make([]byte, len(buf), 2*cap(buf))
		copy(nb, buf)
		buf = nb
	}
	if len(buf) == 0 {
		return chunk{}, io.EOF
	}
	ch := chunk{seq: c.seq, data: buf, firstLine: c.line}
	if c.bomCheck {
		c.bomCheck = false
		ch.bom = bytes.HasPrefix(buf, []byte("\xEF\xBB\xBF"))
	}
	c.seq++
	c.line += int64(bytes.Count(buf, []byte{'\n'}))
	return ch, nil
}

// recordDecoder decodes lines into the columns of a schema. Top-level
// fields left out by projection have no column and are skipped unparsed
// beyond syntax checking.
type recordDecoder struct {
	path   string
	schema *arrow.Schema // output schema (after projection)
	keys   keyIndex
	cols   []column // by field of the full schema; nil when not projected
	out    []int    // full-schema field index of each output column
	seen   []uint32
	gen    uint32
	rows   int
	s      scanner
}

// newRecordDecoder builds a decoder for full, projected to the fields out.
func newRecordDecoder(path string, full *arrow.Schema, out []int) (*recordDecoder, error) {
	d := &recordDecoder{path: path, keys: newKeyIndex(full.Fields()), out: out}
	d.cols = make([]column, full.NumFields())
	d.seen = make([]uint32, full.NumFields())
	fields := make([]arrow.Field, len(out))
	for j, i := range out {
		f := full.Field(i)
		c, err := newColumn(f.Type, f.Name)
		if err != nil {
			return nil, err
		}
		d.cols[i] = c
		fields[j] = f
	}
	md := full.Metadata()
	d.schema = arrow.NewSchema(fields, &md)
	return d, nil
}

// decodeLine appends the object on line as one row. It returns a
// *scanError, and on error the decoder is left with a partial row for the
// caller to drop with truncate.
func (d *recordDecoder) decodeLine(line []byte) error {
	s := &d.s
	err := s.line(line, func() error {
		return decodeMembers(s, &d.keys, d.cols, d.seen, &d.gen)
	})
	if err != nil {
		return err
	}
	d.rows++
	return nil
}

// truncate drops rows after the first n.
func (d *recordDecoder) truncate(n int) {
	for _, c := range d.cols {
		if c != nil {
			c.truncate(n)
		}
	}
	d.rows = n
}

// flush builds a record batch of the rows decoded so far and empties the
// decoder. The caller owns the batch.
func (d *recordDecoder) flush(mem memory.Allocator) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(d.out))
	for j, i := range d.out {
		data := d.cols[i].build(mem)
		arrs[j] = array.MakeFromData(data)
		data.Release()
	}
	rec := array.NewRecordBatch(d.schema, arrs, int64(d.rows))
	for _, a := range arrs {
		a.Release()
	}
	d.rows = 0
	return rec
}

// chunkResult is what decoding one chunk produces.
type chunkResult struct {
	batches []arrow.RecordBatch
	skipped int64
	err     error // after batches
}

// release drops the batches of a result nobody will consume.
func (r *chunkResult) release() {
	for _, b := range r.batches {
		b.Release()
	}
	r.batches = nil
}

// decodeChunk decodes every line of c into batches of at most batchSize
// rows. Blank lines are skipped. A malformed line stops decoding with a
// *PosError, unless permissive, in which case it is dropped and counted.
func (d *recordDecoder) decodeChunk(c chunk, batchSize int, permissive bool, mem memory.Allocator) (res chunkResult) {
	for l := range c.lines() {
		rows := d.rows
		if err := d.decodeLine(l.text); err != nil {
			d.truncate(rows)
			if permissive {
				res.skipped++
				continue
			}
			if se, ok := errors.AsType[*scanError](err); ok {
				err = l.error(d.path, se)
			}
			if d.rows > 0 {
				res.batches = append(res.batches, d.flush(mem))
			}
			res.err = err
			return res
		}
		if d.rows == batchSize {
			res.batches = append(res.batches, d.flush(mem))
		}
	}
	if d.rows > 0 {
		res.batches = append(res.batches, d.flush(mem))
	}
	return res
}

// chunkLine is a line of a chunk that is not blank.
type chunkLine struct {
	no   int64  // 1-based line number in the file
	col  int64  // 1-based byte column of text[0] in the line
	text []byte // from the first byte that is not blank; no '\r' or '\n' at the end
}

// lines yields the lines of c that are not blank (blank: only spaces, tabs
// and carriage returns), in order, after a byte order mark if any.
func (c chunk) lines() iter.Seq[chunkLine] {
	return func(yield func(chunkLine) bool) {
		data := c.data
		pos := 0
		if c.bom {
			pos = 3
		}
		for no := c.firstLine; pos < len(data); no++ {
			end, next := len(data), len(data)
			if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
				end, next = pos+i, pos+i+1
			}
			ln := data[pos:end]
			pos = next
			k := 0
			for k < len(ln) && (ln[k] == ' ' || ln[k] == '\t' || ln[k] == '\r') {
				k++
			}
			if k == len(ln) {
				continue
			}
			col := int64(1 + k)
			if c.bom && no == 1 {
				col += 3
			}
			if !yield(chunkLine{no: no, col: col, text: bytes.TrimRight(ln[k:], "\r")}) {
				return
			}
		}
	}
}

// error places se, an error at an offset of l.text, in the file at path.
func (l chunkLine) error(path string, se *scanError) *PosError {
	pe := NewPosError(path, &lineError{se})
	pe.Line = l.no
	pe.Column = l.col + int64(se.off)
	pe.ColumnName = topField(se.field)
	return pe
}

// topField returns the top-level column of a field path.
func topField(path string) string {
	for i := 0; i < len(path); i++ {
		if path[i] == '.' || path[i] == '[' || path[i] == '{' {
			return path[:i]
		}
	}
	return path
}

// lineError is the error inside a JSON Lines PosError: the reason, wrapping
// ErrSyntax or ErrSchema.
type lineError struct{ e *scanError }

func (e *lineError) Error() string {
	return e.e.kind.Error() + ": " + e.e.Error()
}

func (e *lineError) Unwrap() error { return e.e.kind }

// readFull reads until p is full or the reader fails. Unlike io.ReadFull it
// reports only a clean end as io.EOF, so a truncated compressed stream
// (io.ErrUnexpectedEOF from the decompressor) stays an error.
func readFull(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
