package ops

import "fmt"

// Selection is an ordered list of row positions: the contiguous range
// [Start, Start+Count) when Idx is nil, else the explicit positions Idx.
// The zero Selection is the empty range. A Selection is a value; Idx is
// shared, never modified after construction.
type Selection struct {
	Start, Count int64
	Idx          []int64
}

// Range returns the contiguous selection [start, start+n).
func Range(start, n int64) Selection { return Selection{Start: start, Count: n} }

// Positions returns an explicit selection over idx (which it keeps).
func Positions(idx []int64) Selection { return Selection{Idx: idx, Count: int64(len(idx))} }

// Len returns the number of selected rows.
func (s Selection) Len() int64 {
	if s.Idx != nil {
		return int64(len(s.Idx))
	}
	return s.Count
}

// Contiguous reports whether s is a range.
func (s Selection) Contiguous() bool { return s.Idx == nil }

// At returns the i-th selected position.
func (s Selection) At(i int64) int64 {
	if s.Idx != nil {
		return s.Idx[i]
	}
	return s.Start + i
}

// Slice returns the positions [lo, hi) of s without copying.
func (s Selection) Slice(lo, hi int64) Selection {
	if s.Idx != nil {
		return Positions(s.Idx[lo:hi:hi])
	}
	return Range(s.Start+lo, hi-lo)
}

// Compose returns the selection that picks child's positions out of s:
// result.At(i) == s.At(child.At(i)). Ranges compose without allocating.
func (s Selection) Compose(child Selection) (Selection, error) {
	n := s.Len()
	if child.Idx == nil {
		if child.Start < 0 || child.Count < 0 || child.Start+child.Count > n {
			return Selection{}, fmt.Errorf("%w: range [%d, %d) outside %d rows", ErrOp, child.Start, child.Start+child.Count, n)
		}
		return s.Slice(child.Start, child.Start+child.Count), nil
	}
	out := make([]int64, len(child.Idx))
	for i, p := range child.Idx {
		if p < 0 || p >= n {
			return Selection{}, fmt.Errorf("%w: position %d outside %d rows", ErrOp, p, n)
		}
		out[i] = s.At(p)
	}
	return Positions(out), nil
}

// Materialize returns the positions of s as a slice (a copy for ranges,
// Idx itself otherwise).
func (s Selection) Materialize() []int64 {
	if s.Idx != nil {
		return s.Idx
	}
	out := make([]int64, s.Count)
	for i := range out {
		out[i] = s.Start + int64(i)
	}
	return out
}
