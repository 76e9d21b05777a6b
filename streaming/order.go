package streaming

import "math/bits"

// The random numbers behind every order are computed here, with our own
// generator, so that an order depends on nothing but (seed, epoch) and stays
// the same across Go releases and machines.

// mix hashes a list of words into one (splitmix64 finalizer over a running
// sum); it derives independent seeds for shard orders and windows.
func mix(words ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range words {
		h ^= w + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h = splitmix(h)
	}
	return h
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rng is a splitmix64 generator.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a number in [0, n) (multiply-high; the bias is below 2^-32
// for the sizes used here and, above all, deterministic).
func (r *rng) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// permutation returns a Fisher–Yates permutation of [0, n) drawn from seed.
func permutation(n int, seed uint64) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	r := rng{state: seed}
	for i := n - 1; i > 0; i-- {
		j := r.below(uint64(i + 1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Domain separators for mix.
const (
	domainShards uint64 = iota + 1
	domainWindow
	domainInterleave
)

// plan maps a consumer's local example index to a row of the source
// sequence S (the shards concatenated in epoch order). It is immutable.
type plan struct {
	rows     int64   // N: rows in one epoch
	order    []int   // shard indices in epoch order
	start    []int64 // S offset of order[k]
	window   int64   // shuffle window in rows; 0 = no shuffle
	seed     uint64
	epoch    int64
	consumer int64 // rank*workers + worker
	total    int64 // ranks*workers
	elastic  bool
	base     int64 // elastic: global position the local index 0 maps to
	count    int64 // examples this consumer gets
	pad      bool

	// cache of the last window permutation
	permWin int64
	perm    []int32
}

// newPlan builds the plan of one epoch for one consumer.
func newPlan(shardRows []int64, shuffle bool, seed uint64, window int64, epoch int64,
	consumer, total int64, elastic, pad bool, base int64) *plan {
	p := &plan{seed: seed, epoch: epoch, consumer: consumer, total: total,
		elastic: elastic, pad: pad, base: base, permWin: -1}
	n := len(shardRows)
	if shuffle {
		for _, i := range permutation(n, mix(domainShards, seed, uint64(epoch))) {
			p.order = append(p.order, int(i))
		}
		p.window = window
	} else {
		p.order = make([]int, n)
		for i := range p.order {
			p.order[i] = i
		}
	}
	p.start = make([]int64, n)
	for k, i := range p.order {
		p.start[k] = p.rows
		p.rows += shardRows[i]
	}
	avail := p.rows
	if elastic {
		avail -= base
	}
	if avail < 0 {
		avail = 0
	}
	if pad {
		p.count = (avail + total - 1) / total
	} else {
		p.count = avail / total
	}
	if p.rows == 0 {
		p.count = 0
	}
	return p
}

// global returns the position in the epoch's global sequence of local
// index i, before padding wraps it.
func (p *plan) global(i int64) int64 {
	if p.elastic {
		return p.base + i*p.total + p.consumer
	}
	return p.consumer*p.count + i
}

// stride is the distance in the global sequence between consecutive local
// indices.
func (p *plan) stride() int64 {
	if p.elastic {
		return p.total
	}
	return 1
}

// source returns the row of S that global position g holds.
func (p *plan) source(g int64) int64 {
	e := g % p.rows // padding repeats the start of the sequence
	if p.window <= 0 {
		return e
	}
	w := e / p.window
	ws := w * p.window
	if w != p.permWin {
		size := min(p.window, p.rows-ws)
		p.perm = permutation(int(size), mix(domainWindow, p.seed, uint64(p.epoch), uint64(w)))
		p.permWin = w
	}
	return ws + int64(p.perm[e-ws])
}

// windowRun returns the window holding local index i and, for local
// indices i, i+1, ... (at most n, stopping where the sequence leaves that
// window), the offset of their source row from the window's start. It is
// source() for a run of indices, without the per-index arithmetic.
func (p *plan) windowRun(i, n int64) (int64, []int64) {
	g := p.global(i)
	e := g % p.rows
	w := e / p.window
	ws := w * p.window
	we := min(ws+p.window, p.rows)
	p.source(g) // loads the permutation of window w
	perm := p.perm
	stride := p.stride()
	// A plain run: consecutive positions of the window, up to its end
	// (padding wraps back into the same window only when it is the first).
	if stride == 1 && (ws > 0 || n <= we-e) {
		k := min(n, we-e)
		offs := make([]int64, k)
		for j, q := range perm[e-ws : e-ws+k] {
			offs[j] = int64(q)
		}
		return w, offs
	}
	offs := make([]int64, 0, min(n, we-ws))
	for range n {
		if e < ws || e >= we {
			break
		}
		offs = append(offs, int64(perm[e-ws]))
		e += stride
		if e >= p.rows {
			e %= p.rows // padding wraps to the start of the sequence
		}
	}
	return w, offs
}

// lowWater returns the smallest row of S that global position g or any
// later position of the same window may need.
func (p *plan) lowWater(g int64) int64 {
	e := g % p.rows
	if p.window <= 0 {
		return e
	}
	return e / p.window * p.window
}

// mayRead reports whether the consumer may read shard order[k] in this
// epoch: false only when the shard starts after every row the consumer's
// examples come from (the later ranks' shards, in a split without
// elastic mode).
func (p *plan) mayRead(k int) bool {
	if p.count == 0 {
		return false
	}
	if p.elastic {
		return true
	}
	g := p.global(p.count - 1)
	if g >= p.rows {
		return true // padding wraps to the start
	}
	end := g + 1
	if p.window > 0 {
		end = min(p.rows, (g/p.window+1)*p.window)
	}
	return p.start[k] < end
}

// shardAt returns k such that S row s lies in shard order[k].
func (p *plan) shardAt(s int64) int {
	lo, hi := 0, len(p.start)
	for lo < hi { // last k with start[k] <= s
		m := (lo + hi) / 2
		if p.start[m] <= s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}
