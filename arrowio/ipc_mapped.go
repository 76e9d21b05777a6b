package arrowio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// mappedMessages is an ipc.MessageReader over IPC messages held in memory
// (a mapping): each message's metadata and body are views of data, so
// batches decoded from them alias data without a copy. It reads either the
// messages at the given offsets, in order, or every message from offset
// next up to an end-of-stream marker or the end of data.
//
// It lets arrow-go's stream reader, which tracks dictionaries properly,
// decode mapped data: the dictionary-capable route for mapped IPC files and
// the zero-copy route for mapped IPC streams.
type mappedMessages struct {
	data []byte
	offs []int64 // messages to read, in order; nil reads sequentially
	k    int
	next int64
	heldMessage
}

func newMappedMessages(data []byte, offs []int64, start int64) *mappedMessages {
	r := &mappedMessages{data: data, offs: offs, next: start}
	r.refs.Store(1)
	return r
}

// Message returns the next message, valid until the next call; io.EOF at
// the end.
func (r *mappedMessages) Message() (*ipc.Message, error) {
	off := r.next
	if r.offs != nil {
		if r.k == len(r.offs) {
			return nil, io.EOF
		}
		off = r.offs[r.k]
		r.k++
	} else if off == int64(len(r.data)) {
		return nil, io.EOF
	}
	fb, end, err := messagePrefix(r.data, off)
	if err != nil {
		return nil, err
	}
	if fb == nil {
		r.next = end
		return nil, io.EOF
	}
	if err := validateMessageFB(fb); err != nil {
		return nil, fmt.Errorf("message at offset %d: %w", off, err)
	}
	info, err := parseMessage(fb)
	if err != nil {
		return nil, fmt.Errorf("message at offset %d: %w", off, err)
	}
	if info.BodyLen > int64(len(r.data))-end {
		return nil, fmt.Errorf("message at offset %d: body of %d bytes runs past the end of the data", off, info.BodyLen)
	}
	if err := checkCompressedBody(fb, bytes.NewReader(r.data), end, info.BodyLen); err != nil {
		return nil, fmt.Errorf("message at offset %d: %w", off, err)
	}
	r.next = end + info.BodyLen
	return r.hold(ipc.NewMessage(memory.NewBufferBytes(fb), memory.NewBufferBytes(r.data[end:r.next]))), nil
}

var _ ipc.MessageReader = (*mappedMessages)(nil)

// streamFacts walks the messages of a mapped stream from start without
// decoding batches and returns the number of record batches and rows.
func streamFacts(data []byte, start int64) (batches int, rows int64, err error) {
	off := start
	for off < int64(len(data)) {
		fb, end, err := messagePrefix(data, off)
		if err != nil {
			return batches, rows, err
		}
		if fb == nil {
			break
		}
		info, err := parseMessage(fb)
		if err != nil {
			return batches, rows, err
		}
		if info.BodyLen > int64(len(data))-end {
			return batches, rows, fmt.Errorf("body of %d bytes runs past the end of the data", info.BodyLen)
		}
		if info.Kind == messageHeaderRecordBatch {
			batches++
			rows += info.Rows
		}
		off = end + info.BodyLen
	}
	return batches, rows, nil
}

// streamMessages is an ipc.MessageReader over an io.Reader, like
// ipc.NewMessageReader but checking each message's flatbuffer (see
// validateMessageFB) and bounding metadata and body sizes by limit before
// allocating, so damaged input cannot exhaust memory. Bodies are read into
// memory from mem.
type streamMessages struct {
	r     io.Reader
	mem   memory.Allocator
	limit int64
	heldMessage
}

func newStreamMessages(r io.Reader, mem memory.Allocator, limit int64) *streamMessages {
	s := &streamMessages{r: r, mem: mem, limit: limit}
	s.refs.Store(1)
	return s
}

func (s *streamMessages) Message() (*ipc.Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF // a stream may end without its marker
		}
		return nil, fmt.Errorf("message length: %w", err)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0xFFFFFFFF {
		if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
			return nil, fmt.Errorf("message length: %w", noEOF(err))
		}
		n = binary.LittleEndian.Uint32(hdr[:])
	}
	if n == 0 {
		return nil, io.EOF
	}
	if int32(n) < 4 || int64(n) > s.limit {
		return nil, fmt.Errorf("message metadata length %d is invalid", int32(n))
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(s.r, meta); err != nil {
		return nil, fmt.Errorf("message metadata: %w", noEOF(err))
	}
	if err := validateMessageFB(meta); err != nil {
		return nil, err
	}
	info, err := parseMessage(meta)
	if err != nil {
		return nil, err
	}
	if info.BodyLen > s.limit {
		return nil, fmt.Errorf("message body length %d exceeds the file size", info.BodyLen)
	}
	body := memory.NewResizableBuffer(s.mem)
	defer body.Release()
	body.Resize(int(info.BodyLen))
	if _, err := io.ReadFull(s.r, body.Bytes()); err != nil {
		return nil, fmt.Errorf("message body: %w", noEOF(err))
	}
	if err := checkCompressedBody(meta, bytes.NewReader(body.Bytes()), 0, info.BodyLen); err != nil {
		return nil, err
	}
	return s.hold(ipc.NewMessage(memory.NewBufferBytes(meta), body)), nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

var _ ipc.MessageReader = (*streamMessages)(nil)

// heldMessage is the reference counting both message readers share: the
// reader starts with one reference, and the current message is kept until
// the next one replaces it or the last reference is released.
type heldMessage struct {
	cur  *ipc.Message
	refs atomic.Int64
}

// hold makes m the current message, releasing the previous one, and
// returns m.
func (h *heldMessage) hold(m *ipc.Message) *ipc.Message {
	if h.cur != nil {
		h.cur.Release()
	}
	h.cur = m
	return m
}

func (h *heldMessage) Retain() { h.refs.Add(1) }

func (h *heldMessage) Release() {
	if h.refs.Add(-1) == 0 && h.cur != nil {
		h.cur.Release()
		h.cur = nil
	}
}
