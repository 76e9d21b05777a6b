package arrowio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec registrations for the Parquet reader, made once at package init
// (arrow-go's codec table is a plain map, so it must not change while files
// are read):
//
//   - LZ4 (the deprecated Parquet codec 5), which arrow-go leaves
//     unimplemented because writers disagree on its framing: Hadoop writes
//     blocks prefixed by big-endian uncompressed and compressed sizes,
//     others a bare LZ4 block, a few an LZ4 frame. lz4AnyCodec tries the
//     three in that order.
//   - Every built-in codec is wrapped so that an empty compressed page
//     decodes to nothing: some writers emit a zero-length body for an empty
//     v2 data page even when the column is compressed, and an empty input is
//     not a valid Snappy (or zstd) stream.
func init() {
	for _, c := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Gzip,
		compress.Codecs.Brotli, compress.Codecs.Zstd, compress.Codecs.Lz4Raw} {
		inner, err := compress.GetCodec(c)
		if err != nil {
			continue
		}
		if c == compress.Codecs.Zstd {
			inner = smallWindowZstd{inner}
		}
		compress.RegisterCodec(c, emptySafeCodec{inner})
	}
	compress.RegisterCodec(compress.Codecs.Lz4, emptySafeCodec{lz4AnyCodec{}})
}

// emptySafeCodec decodes an empty block to an empty block and defers
// everything else to the wrapped codec.
type emptySafeCodec struct{ compress.Codec }

func (c emptySafeCodec) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

func (c emptySafeCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return dst[:0], nil
	}
	return compress.Decode(c.Codec, dst, src)
}

// lz4AnyCodec decodes Parquet's legacy LZ4 codec in any of its framings and
// encodes as Hadoop framing (Quiver never writes this codec; its writer
// uses LZ4_RAW).
type lz4AnyCodec struct{}

var errLZ4 = errors.New("lz4: data is neither hadoop-framed, a raw block nor a frame")

func (lz4AnyCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	if out, ok := decodeHadoopLZ4(dst, src); ok {
		return out, nil
	}
	if cap(dst) > 0 {
		if n, err := lz4.UncompressBlock(src, dst[:cap(dst)]); err == nil {
			return dst[:n], nil
		}
	}
	if len(src) >= 4 && binary.LittleEndian.Uint32(src) == 0x184D2204 {
		r := lz4.NewReader(bytes.NewReader(src))
		out := dst[:0]
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				return nil, fmt.Errorf("lz4 frame: %w", err)
			}
		}
	}
	return nil, errLZ4
}

func (c lz4AnyCodec) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

// decodeHadoopLZ4 decodes blocks of [uncompressed size BE32][compressed
// size BE32][raw LZ4 block] that must consume src exactly.
func decodeHadoopLZ4(dst, src []byte) ([]byte, bool) {
	out := dst[:0]
	for len(src) > 0 {
		if len(src) < 8 {
			return nil, false
		}
		usize := int(binary.BigEndian.Uint32(src))
		csize := int(binary.BigEndian.Uint32(src[4:]))
		src = src[8:]
		if csize > len(src) || usize < 0 || usize > 1<<30 {
			return nil, false
		}
		start := len(out)
		if cap(out)-start < usize {
			grown := make([]byte, start, start+usize)
			copy(grown, out)
			out = grown
		}
		n, err := lz4.UncompressBlock(src[:csize], out[start:start+usize])
		if err != nil || n != usize {
			return nil, false
		}
		out = out[:start+n]
		src = src[csize:]
	}
	return out, true
}

func (lz4AnyCodec) Encode(dst, src []byte) []byte {
	bound := lz4.CompressBlockBound(len(src))
	out := make([]byte, 8+bound)
	var c lz4.Compressor
	n, err := c.CompressBlock(src, out[8:])
	if err != nil {
		panic(err)
	}
	binary.BigEndian.PutUint32(out, uint32(len(src)))
	binary.BigEndian.PutUint32(out[4:], uint32(n))
	return out[:8+n]
}

func (c lz4AnyCodec) EncodeLevel(dst, src []byte, _ int) []byte { return c.Encode(dst, src) }

func (lz4AnyCodec) CompressBound(n int64) int64 {
	return 8 + int64(lz4.CompressBlockBound(int(n)))
}

// parquetZstdWindow is the zstd window Quiver's Parquet writer encodes
// pages with. A page is about 1 MiB (pqarrow's default data page size), so
// a longer history finds almost nothing more, while each pooled encoder at
// the default level would hold an 8 MiB window: measured on the generated
// 1 GB JSONL → Parquet conversion, the smaller window cut peak RSS by about
// 50 MB at the same output size.
const parquetZstdWindow = 1 << 20

// smallWindowZstd is arrow-go's zstd codec with encoders of a bounded
// window, pooled per level. Decoding is the wrapped codec's.
type smallWindowZstd struct{ compress.Codec }

var zstdEncoders sync.Map // zstd.EncoderLevel → *sync.Pool of *zstd.Encoder

func zstdEncoderPool(level zstd.EncoderLevel) *sync.Pool {
	if p, ok := zstdEncoders.Load(level); ok {
		return p.(*sync.Pool)
	}
	p, _ := zstdEncoders.LoadOrStore(level, &sync.Pool{New: func() any {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(parquetZstdWindow), zstd.WithZeroFrames(true), zstd.WithAllLitEntropyCompression(true))
		if err != nil {
			panic(err) // only for invalid options, which are constants here
		}
		return enc
	}})
	return p.(*sync.Pool)
}

func (c smallWindowZstd) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

func (c smallWindowZstd) EncodeLevel(dst, src []byte, level int) []byte {
	lvl := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		lvl = zstd.EncoderLevelFromZstd(level)
	}
	pool := zstdEncoderPool(lvl)
	enc := pool.Get().(*zstd.Encoder)
	defer pool.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}
