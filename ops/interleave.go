package ops

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Stopping says when interleaving ends.
type Stopping uint8

const (
	// FirstExhausted stops as soon as one source has no rows left: the
	// default, as in Hugging Face.
	FirstExhausted Stopping = iota
	// AllExhausted restarts exhausted sources (oversampling them) until
	// every source has been read to the end at least once.
	AllExhausted
)

func (s Stopping) String() string {
	if s == AllExhausted {
		return "all_exhausted"
	}
	return "first_exhausted"
}

// InterleaveSpec describes an interleave of several sources.
type InterleaveSpec struct {
	// Probabilities picks the source of each row at random with these
	// weights (normalised; one per source). Nil means round-robin.
	Probabilities []float64
	// Seed seeds the random picks.
	Seed     uint64
	Stopping Stopping
}

// Describe returns the canonical description of the spec.
func (s InterleaveSpec) Describe() string {
	p := make([]string, len(s.Probabilities))
	for i, x := range s.Probabilities {
		p[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return describe("interleave", "probabilities", "["+strings.Join(p, ",")+"]",
		"seed", strconv.FormatUint(s.Seed, 10), "stopping", s.Stopping.String())
}

// InterleaveOrder returns the order in which to read rows from sources of
// the given sizes: output row k is row rows[k] of source src[k]. It depends
// only on the sizes and spec.
func InterleaveOrder(sizes []int64, spec InterleaveSpec) (src []int32, rows []int64, err error) {
	k := len(sizes)
	if k == 0 {
		return nil, nil, fmt.Errorf("%w: interleave needs at least one source", ErrOp)
	}
	var cum []float64
	if spec.Probabilities != nil {
		if len(spec.Probabilities) != k {
			return nil, nil, fmt.Errorf("%w: interleave: %d probabilities for %d sources", ErrOp, len(spec.Probabilities), k)
		}
		var total float64
		for _, p := range spec.Probabilities {
			if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
				return nil, nil, fmt.Errorf("%w: interleave: probability %v", ErrOp, p)
			}
			total += p
		}
		if total <= 0 {
			return nil, nil, fmt.Errorf("%w: interleave: probabilities sum to zero", ErrOp)
		}
		cum = make([]float64, k)
		var acc float64
		for i, p := range spec.Probabilities {
			acc += p / total
			cum[i] = acc
		}
	}
	if cum == nil && spec.Stopping == FirstExhausted {
		// Round-robin until the shortest source ends: whole rounds only,
		// as Hugging Face does.
		short := sizes[0]
		for _, n := range sizes {
			short = min(short, n)
		}
		for r := range short {
			for i := range k {
				src = append(src, int32(i))
				rows = append(rows, r)
			}
		}
		return src, rows, nil
	}
	next := make([]int64, k) // next row per source
	done := make([]bool, k)  // source has been read to its end once
	remaining := 0           // sources not yet done
	for i, n := range sizes {
		switch {
		case n == 0 && spec.Stopping == FirstExhausted && (cum == nil || spec.Probabilities[i] > 0):
			return nil, nil, nil // an empty source is exhausted from the start
		case n == 0 || (cum != nil && spec.Probabilities[i] == 0):
			done[i] = true // never picked
		default:
			remaining++
		}
	}
	if remaining == 0 {
		return nil, nil, nil
	}
	rng := NewRand(spec.Seed)
	pick := 0
	for {
		var s int
		if cum == nil {
			s = pick
			pick = (pick + 1) % k
		} else {
			u := rng.Float64()
			s = k - 1
			for i, c := range cum {
				if u < c {
					s = i
					break
				}
			}
		}
		if sizes[s] == 0 || (cum != nil && spec.Probabilities[s] == 0) {
			continue
		}
		if next[s] == sizes[s] { // exhausted
			if spec.Stopping == FirstExhausted {
				return src, rows, nil
			}
			next[s] = 0
		}
		src = append(src, int32(s))
		rows = append(rows, next[s])
		next[s]++
		if next[s] == sizes[s] && !done[s] {
			done[s] = true
			remaining--
			if spec.Stopping == FirstExhausted {
				return src, rows, nil
			}
			if remaining == 0 {
				return src, rows, nil
			}
		}
	}
}
