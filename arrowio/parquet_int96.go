package arrowio

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// INT96 timestamps (the deprecated Impala/Spark encoding: nanoseconds of
// day and a Julian day) are read as timestamp[us] by this package, not as
// pqarrow's timestamp[ns]: Spark, their main writer, stores microsecond
// values whose range (±290,000 years) exceeds what int64 nanoseconds can
// hold, and pqarrow fails on such files. Sub-microsecond digits are
// truncated. Only top-level INT96 columns get this treatment; INT96 nested
// in lists or structs still goes through pqarrow as timestamp[ns].

const julianDayOfUnixEpoch = 2440588

// int96Micros converts one INT96 value to microseconds since the Unix
// epoch the way Spark does: the Julian day is a signed 32-bit number, the
// nanoseconds a signed 64-bit number that may fall outside the day, and
// the arithmetic wraps in int64. Spark relies on that wrap-around for dates
// beyond year 292,277 in Julian-day terms, so it is the format's semantics,
// not an overflow to report.
func int96Micros(v parquet.Int96) int64 {
	const microsPerDay int64 = 86400 * 1e6
	nanos := int64(binary.LittleEndian.Uint64(v[:8]))
	day := int64(int32(binary.LittleEndian.Uint32(v[8:])))
	return day*microsPerDay + nanos/1000 - julianDayOfUnixEpoch*microsPerDay
}

// columnSource yields the next rows of one top-level column of one row
// group.
type columnSource interface {
	next(n int64) (arrow.Array, error)
	release()
}

// pqarrowSource reads a column through pqarrow.
type pqarrowSource struct {
	cr     *pqarrow.ColumnReader
	dt     arrow.DataType
	mem    memory.Allocator
	legacy bool // unwrap a legacy two-level list (see parquet_legacy.go)
}

func (s *pqarrowSource) next(n int64) (arrow.Array, error) {
	a, err := s.read(n)
	if err != nil || !s.legacy {
		return a, err
	}
	defer a.Release()
	return unwrapLegacyList(a, s.dt), nil
}

func (s *pqarrowSource) read(n int64) (arrow.Array, error) {
	ch, err := s.cr.NextBatch(n)
	if err != nil {
		return nil, classifyParquetErr(err)
	}
	defer ch.Release()
	switch len(ch.Chunks()) {
	case 0:
		return array.MakeArrayOfNull(s.mem, s.dt, 0), nil
	case 1:
		a := ch.Chunk(0)
		a.Retain()
		return a, nil
	}
	return array.Concatenate(ch.Chunks(), s.mem)
}

func (s *pqarrowSource) release() { s.cr.Release() }

// int96Source reads a flat INT96 column as timestamp[us].
type int96Source struct {
	rd     *file.Int96ColumnChunkReader
	maxDef int16
	dt     *arrow.TimestampType
	mem    memory.Allocator
	vals   []parquet.Int96
	defs   []int16
}

func newInt96Source(pf *file.Reader, g, col int, dt *arrow.TimestampType, mem memory.Allocator) (*int96Source, error) {
	ccr, err := pf.RowGroup(g).Column(col)
	if err != nil {
		return nil, classifyParquetErr(err)
	}
	rd, ok := ccr.(*file.Int96ColumnChunkReader)
	if !ok {
		return nil, fmt.Errorf("%w: column %d is not INT96", ErrCorrupt, col)
	}
	return &int96Source{rd: rd, maxDef: ccr.Descriptor().MaxDefinitionLevel(), dt: dt, mem: mem}, nil
}

func (s *int96Source) next(n int64) (arrow.Array, error) {
	if int64(cap(s.vals)) < n {
		s.vals = make([]parquet.Int96, n)
		s.defs = make([]int16, n)
	}
	vals, defs := s.vals[:n], s.defs[:n]
	b := array.NewTimestampBuilder(s.mem, s.dt)
	defer b.Release()
	b.Reserve(int(n))
	for left := n; left > 0; {
		var dl []int16
		if s.maxDef > 0 {
			dl = defs[:left]
		}
		levels, nvals, err := s.rd.ReadBatch(left, vals[:left], dl, nil)
		if err != nil {
			return nil, classifyParquetErr(err)
		}
		if levels == 0 {
			return nil, fmt.Errorf("%w: INT96 column ended %d rows early", ErrCorrupt, left)
		}
		if s.maxDef == 0 {
			levels = int64(nvals)
		}
		vi := 0
		for i := range levels {
			if s.maxDef > 0 && dl[i] < s.maxDef {
				b.AppendNull()
				continue
			}
			if vi >= nvals {
				return nil, fmt.Errorf("%w: INT96 definition levels and values disagree", ErrCorrupt)
			}
			b.Append(arrow.Timestamp(int96Micros(vals[vi])))
			vi++
		}
		left -= levels
	}
	return b.NewArray(), nil
}

func (s *int96Source) release() {}
