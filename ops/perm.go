package ops

import (
	"math/bits"
	"math/rand/v2"
)

// pcgStream is the second PCG seed word; the first is the user's seed.
// ("Quiver" in ASCII.)
const pcgStream = 0x517569766572

// Rand is the deterministic generator behind every seeded op: PCG from
// math/rand/v2 seeded with (seed, a fixed stream constant), plus bounded
// draws defined here (Lemire's multiply-and-reject), so a seed gives the
// same numbers on every machine and Go release.
type Rand struct{ pcg *rand.PCG }

// NewRand returns the generator for seed.
func NewRand(seed uint64) *Rand { return &Rand{pcg: rand.NewPCG(seed, pcgStream)} }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 { return r.pcg.Uint64() }

// Below returns a uniform value in [0, n); n must be > 0.
func (r *Rand) Below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.pcg.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.pcg.Uint64(), n)
		}
	}
	return hi
}

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 { return float64(r.pcg.Uint64()>>11) / (1 << 53) }

// ShuffleInt64 permutes s in place (Fisher–Yates, from the end).
func (r *Rand) ShuffleInt64(s []int64) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.Below(uint64(i + 1))
		s[i], s[j] = s[j], s[i]
	}
}

// Permutation returns a permutation of [0, n) that depends only on n and
// seed.
func Permutation(n int64, seed uint64) []int64 {
	p := make([]int64, n)
	for i := range p {
		p[i] = int64(i)
	}
	NewRand(seed).ShuffleInt64(p)
	return p
}
