package arrowio

import (
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
	cur  *ipc.Message
	refs atomic.Int64
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
	info, err := parseMessage(fb)
	if err != nil {
		return nil, fmt.Errorf("message at offset %d: %w", off, err)
	}
	if info.BodyLen > int64(len(r.data))-end {
		return nil, fmt.Errorf("message at offset %d: body of %d bytes runs past the end of the data", off, info.BodyLen)
	}
	r.next = end + info.BodyLen
	if r.cur != nil {
		r.cur.Release()
	}
	r.cur = ipc.NewMessage(memory.NewBufferBytes(fb), memory.NewBufferBytes(r.data[end:r.next]))
	return r.cur, nil
}

func (r *mappedMessages) Retain() { r.refs.Add(1) }

func (r *mappedMessages) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
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
