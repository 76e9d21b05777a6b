package arrowio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// decompress wraps r to undo c. With CompressionNone it sniffs the gzip and
// zstd magic numbers, so a compressed file without a .gz or .zst extension
// still reads. The returned closer releases decoder state but does not close
// r.
func decompress(r io.Reader, c Compression) (io.ReadCloser, error) {
	switch c {
	case CompressionNone:
		br := bufio.NewReaderSize(r, 64<<10)
		magic, _ := br.Peek(4)
		switch {
		case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
			return decompress(br, CompressionGzip)
		case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			return decompress(br, CompressionZstd)
		}
		return io.NopCloser(br), nil
	case CompressionGzip:
		zr, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip header: %v", ErrCorrupt, err)
		}
		return zr, nil
	case CompressionZstd:
		// One decoder goroutine: the parser, not zstd, is the bottleneck.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<31))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("%w: compression %d", ErrUnsupported, c)
}

// compressWriter wraps w to apply c at level (0 = codec default). Closing the
// result flushes the codec but does not close w.
func compressWriter(w io.Writer, c Compression, level int) (io.WriteCloser, error) {
	switch c {
	case CompressionNone:
		return nopWriteCloser{w}, nil
	case CompressionGzip:
		if level == 0 {
			level = gzip.DefaultCompression
		}
		return gzip.NewWriterLevel(w, level)
	case CompressionZstd:
		lvl := zstd.SpeedDefault
		if level != 0 {
			lvl = zstd.EncoderLevelFromZstd(level)
		}
		return zstd.NewWriter(w, zstd.WithEncoderLevel(lvl))
	}
	return nil, fmt.Errorf("%w: compression %d", ErrUnsupported, c)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
