package ops

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// SortKey is one column of a sort order.
type SortKey struct {
	Column     string
	Descending bool
	// NullsFirst puts nulls (and NaNs) before other values; default last.
	NullsFirst bool
}

// Sort orders rows by keys, the first key first; ties keep their current
// order (the sort is stable). Supported column types: integers, floats,
// booleans, strings, binaries, dates, times, timestamps and durations.
func Sort(keys ...SortKey) IndexOp {
	kv := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		dir := "asc"
		if k.Descending {
			dir = "desc"
		}
		nulls := "last"
		if k.NullsFirst {
			nulls = "first"
		}
		kv = append(kv, "key", k.Column+" "+dir+" nulls_"+nulls)
	}
	o := &indexOp{desc: describe("sort", kv...)}
	if len(keys) == 0 {
		o.err = fmt.Errorf("%w: sort needs at least one key", ErrOp)
	}
	o.fn = func(ctx context.Context, t Table) (Selection, error) {
		cmps := make([]func(i, j int64) int, len(keys))
		for k, key := range keys {
			col, err := t.Column(ctx, key.Column)
			if err != nil {
				return Selection{}, fmt.Errorf("%w: sort by %q: %w", ErrOp, key.Column, err)
			}
			defer col.Release()
			c, err := comparator(col, key)
			if err != nil {
				return Selection{}, err
			}
			cmps[k] = c
		}
		idx := Range(0, t.Len()).Materialize()
		slices.SortStableFunc(idx, func(a, b int64) int {
			for _, c := range cmps {
				if r := c(a, b); r != 0 {
					return r
				}
			}
			return 0
		})
		return Positions(idx), nil
	}
	return o
}

// orderedCmp compares rows of arr by value, honouring key's direction and
// null placement; nan reports values sorted like nulls (float NaN).
func orderedCmp[T cmp.Ordered](arr arrow.Array, value func(int) T, key SortKey, nan func(T) bool) func(i, j int64) int {
	sign := 1
	if key.Descending {
		sign = -1
	}
	nullOrder := 1 // nulls last
	if key.NullsFirst {
		nullOrder = -1
	}
	isNull := func(i int) bool { return arr.IsNull(i) || (nan != nil && nan(value(i))) }
	return func(a, b int64) int {
		i, j := int(a), int(b)
		ni, nj := isNull(i), isNull(j)
		switch {
		case ni && nj:
			return 0
		case ni:
			return nullOrder
		case nj:
			return -nullOrder
		}
		return sign * cmp.Compare(value(i), value(j))
	}
}

func isNaN[T cmp.Ordered](v T) bool { return v != v }

func comparator(arr arrow.Array, key SortKey) (func(i, j int64) int, error) {
	switch a := arr.(type) {
	case *array.Int8:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Int16:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Int32:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Int64:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Uint8:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Uint16:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Uint32:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Uint64:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Float32:
		return orderedCmp(arr, a.Value, key, isNaN[float32]), nil
	case *array.Float64:
		return orderedCmp(arr, a.Value, key, isNaN[float64]), nil
	case *array.String:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.LargeString:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.StringView:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Binary:
		return orderedCmp(arr, func(i int) string { return string(a.Value(i)) }, key, nil), nil
	case *array.LargeBinary:
		return orderedCmp(arr, func(i int) string { return string(a.Value(i)) }, key, nil), nil
	case *array.Boolean:
		return orderedCmp(arr, func(i int) int {
			if a.Value(i) {
				return 1
			}
			return 0
		}, key, nil), nil
	case *array.Date32:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Date64:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Timestamp:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Time32:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Time64:
		return orderedCmp(arr, a.Value, key, nil), nil
	case *array.Duration:
		return orderedCmp(arr, a.Value, key, nil), nil
	}
	return nil, fmt.Errorf("%w: cannot sort by column %q of type %s", ErrOp, key.Column, arr.DataType())
}

// rowKey returns a byte key identifying the value at row i of arr: equal
// values give equal keys; nulls have their own key.
func rowKey(arr arrow.Array, i int, buf []byte) []byte {
	buf = buf[:0]
	if arr.IsNull(i) {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	switch a := arr.(type) {
	case *array.String:
		return append(buf, a.Value(i)...)
	case *array.LargeString:
		return append(buf, a.Value(i)...)
	case *array.Binary:
		return append(buf, a.Value(i)...)
	case *array.Int64:
		return strconv.AppendInt(buf, a.Value(i), 10)
	case *array.Int32:
		return strconv.AppendInt(buf, int64(a.Value(i)), 10)
	}
	return append(buf, arr.ValueStr(i)...)
}

// groupRows returns the row positions of each distinct value of arr,
// classes ordered by first appearance.
func groupRows(arr arrow.Array) [][]int64 {
	index := map[string]int{}
	var classes [][]int64
	var buf []byte
	for i := range arr.Len() {
		buf = rowKey(arr, i, buf)
		k, ok := index[string(buf)]
		if !ok {
			k = len(classes)
			index[string(buf)] = k
			classes = append(classes, nil)
		}
		classes[k] = append(classes[k], int64(i))
	}
	return classes
}

// UniquePositions returns the position of the first occurrence of each
// distinct value of arr (nulls count as one value), in order of appearance.
func UniquePositions(arr arrow.Array) []int64 {
	seen := map[string]struct{}{}
	var out []int64
	var buf []byte
	for i := range arr.Len() {
		buf = rowKey(arr, i, buf)
		if _, ok := seen[string(buf)]; ok {
			continue
		}
		seen[string(buf)] = struct{}{}
		out = append(out, int64(i))
	}
	return out
}
