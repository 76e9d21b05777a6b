package arrowio

import (
	"fmt"
	"path"
	"strings"
)

// Format is a file format Quiver reads and writes.
type Format uint8

const (
	FormatUnknown     Format = iota
	FormatParquet            // Apache Parquet
	FormatJSONL              // JSON Lines / NDJSON, one object per line
	FormatArrowFile          // Arrow IPC file format ("Feather v2")
	FormatArrowStream        // Arrow IPC stream format (HF save_to_disk shards)
	FormatCSV                // comma-separated values with a header line
)

var formatNames = [...]string{"unknown", "parquet", "jsonl", "arrow", "arrows", "csv"}

// String returns the canonical name: parquet, jsonl, arrow, arrows or csv.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// ParseFormat parses a format name as accepted on the command line:
// parquet|pq, jsonl|ndjson|json, arrow|ipc|feather, arrows|stream, csv.
func ParseFormat(name string) (Format, error) {
	switch strings.ToLower(name) {
	case "parquet", "pq":
		return FormatParquet, nil
	case "jsonl", "ndjson", "json":
		return FormatJSONL, nil
	case "arrow", "ipc", "feather":
		return FormatArrowFile, nil
	case "arrows", "stream", "arrow-stream":
		return FormatArrowStream, nil
	case "csv":
		return FormatCSV, nil
	}
	return FormatUnknown, fmt.Errorf("%w: %q (want parquet, jsonl, arrow, arrows or csv)", ErrUnknownFormat, name)
}

// Compression is a whole-file compression wrapped around a text format.
type Compression uint8

const (
	CompressionNone Compression = iota
	CompressionGzip
	CompressionZstd
)

// String returns "", "gzip" or "zstd".
func (c Compression) String() string {
	switch c {
	case CompressionGzip:
		return "gzip"
	case CompressionZstd:
		return "zstd"
	}
	return ""
}

// DetectFormat tells the format and whole-file compression of path from its
// extension, case-insensitively:
//
//	.parquet .pq                       parquet
//	.jsonl .ndjson .json  (+.gz .zst)  jsonl
//	.csv                  (+.gz .zst)  csv
//	.arrow .feather .ipc .arrow_file   arrow (IPC file; readers also accept a stream)
//	.arrows .stream                    arrows (IPC stream)
//
// It returns an error wrapping ErrUnknownFormat for anything else.
func DetectFormat(p string) (Format, Compression, error) {
	name := strings.ToLower(path.Base(strings.ReplaceAll(p, `\`, "/")))
	comp := CompressionNone
	switch {
	case strings.HasSuffix(name, ".gz"):
		comp, name = CompressionGzip, strings.TrimSuffix(name, ".gz")
	case strings.HasSuffix(name, ".zst"):
		comp, name = CompressionZstd, strings.TrimSuffix(name, ".zst")
	case strings.HasSuffix(name, ".zstd"):
		comp, name = CompressionZstd, strings.TrimSuffix(name, ".zstd")
	}
	var f Format
	switch path.Ext(name) {
	case ".parquet", ".pq":
		f = FormatParquet
	case ".jsonl", ".ndjson", ".json":
		f = FormatJSONL
	case ".csv":
		f = FormatCSV
	case ".arrow", ".feather", ".ipc", ".arrow_file":
		f = FormatArrowFile
	case ".arrows", ".stream":
		f = FormatArrowStream
	default:
		return FormatUnknown, CompressionNone, fmt.Errorf("%w: %s (extension not recognised)", ErrUnknownFormat, p)
	}
	if comp != CompressionNone && f != FormatJSONL && f != FormatCSV {
		return FormatUnknown, CompressionNone, fmt.Errorf("%w: %s (%s compression applies to jsonl and csv only)", ErrUnknownFormat, p, comp)
	}
	return f, comp, nil
}
