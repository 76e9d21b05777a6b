package ops

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
)

// indexOp is the common shape of the index ops below.
type indexOp struct {
	desc string
	err  error
	fn   func(ctx context.Context, t Table) (Selection, error)
}

func (o *indexOp) Err() error               { return o.err }
func (o *indexOp) Describe() (string, bool) { return o.desc, o.err == nil }
func (o *indexOp) String() string           { return o.desc }
func (o *indexOp) Positions(ctx context.Context, t Table) (Selection, error) {
	if o.err != nil {
		return Selection{}, o.err
	}
	return o.fn(ctx, t)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// SelectRows keeps the rows at positions idx, in that order (duplicates
// allowed). The op keeps idx; do not modify it afterwards. Its fingerprint
// contribution is a SHA-256 of the positions.
func SelectRows(idx []int64) IndexOp {
	h := sha256.New()
	var b [8]byte
	for _, p := range idx {
		binary.LittleEndian.PutUint64(b[:], uint64(p))
		h.Write(b[:])
	}
	o := &indexOp{desc: describe("select", "n", itoa(int64(len(idx))), "sha256", hex.EncodeToString(h.Sum(nil)))}
	o.fn = func(_ context.Context, t Table) (Selection, error) {
		n := t.Len()
		for _, p := range idx {
			if p < 0 || p >= n {
				return Selection{}, fmt.Errorf("%w: select: row %d outside %d rows", ErrOp, p, n)
			}
		}
		return Positions(idx), nil
	}
	return o
}

// Take keeps the first n rows (all rows if there are fewer).
func Take(n int64) IndexOp {
	o := &indexOp{desc: describe("take", "n", itoa(n))}
	if n < 0 {
		o.err = fmt.Errorf("%w: take(%d): negative count", ErrOp, n)
	}
	o.fn = func(_ context.Context, t Table) (Selection, error) { return Range(0, min(n, t.Len())), nil }
	return o
}

// Skip drops the first n rows (all rows if there are fewer).
func Skip(n int64) IndexOp {
	o := &indexOp{desc: describe("skip", "n", itoa(n))}
	if n < 0 {
		o.err = fmt.Errorf("%w: skip(%d): negative count", ErrOp, n)
	}
	o.fn = func(_ context.Context, t Table) (Selection, error) {
		k := min(n, t.Len())
		return Range(k, t.Len()-k), nil
	}
	return o
}

// Shuffle permutes the rows with Permutation(len, seed): the same seed gives
// the same order on any machine and with any worker count.
func Shuffle(seed uint64) IndexOp {
	o := &indexOp{desc: describe("shuffle", "seed", strconv.FormatUint(seed, 10))}
	o.fn = func(ctx context.Context, t Table) (Selection, error) {
		return Positions(Permutation(t.Len(), seed)), nil
	}
	return o
}

// ShardBounds returns the rows [lo, hi) of contiguous shard i of n over
// rows rows, by Hugging Face's rule: every shard gets rows/n rows and the
// first rows%n shards one more.
func ShardBounds(rows int64, n, i int) (lo, hi int64) {
	div, mod := rows/int64(n), rows%int64(n)
	lo = div*int64(i) + min(int64(i), mod)
	hi = lo + div
	if int64(i) < mod {
		hi++
	}
	return lo, hi
}

// Shard keeps shard i of n: a contiguous block (ShardBounds) when
// contiguous, else rows i, i+n, i+2n, ... (strided).
func Shard(n, i int, contiguous bool) IndexOp {
	o := &indexOp{desc: describe("shard", "n", strconv.Itoa(n), "i", strconv.Itoa(i), "contiguous", strconv.FormatBool(contiguous))}
	if n <= 0 || i < 0 || i >= n {
		o.err = fmt.Errorf("%w: shard(%d, %d): want n > 0 and 0 <= i < n", ErrOp, n, i)
	}
	o.fn = func(_ context.Context, t Table) (Selection, error) {
		rows := t.Len()
		if contiguous {
			lo, hi := ShardBounds(rows, n, i)
			return Range(lo, hi-lo), nil
		}
		var idx []int64
		if int64(i) < rows {
			idx = make([]int64, 0, (rows-int64(i)+int64(n)-1)/int64(n))
		}
		for p := int64(i); p < rows; p += int64(n) {
			idx = append(idx, p)
		}
		return Positions(idx), nil
	}
	return o
}

// Side picks one half of a train/test split.
type Side uint8

const (
	Train Side = iota
	Test
)

func (s Side) String() string {
	if s == Test {
		return "test"
	}
	return "train"
}

// SplitSpec describes a train/test split. Sizes are given as a fraction or
// a count per side (set at most one of the two per side); an unset side is
// the complement of the other; with nothing set the test side is 25%.
// Fractions round like Hugging Face: test = ceil(f·n), train = floor(f·n).
type SplitSpec struct {
	TestFraction, TrainFraction float64
	TestCount, TrainCount       int64
	// Seed seeds the shuffle (ignored with NoShuffle).
	Seed uint64
	// NoShuffle keeps the order: train is the first rows, test the next.
	NoShuffle bool
	// StratifyBy names a column whose value distribution both sides keep
	// (each class is split in proportion). Requires shuffling.
	StratifyBy string
}

func (s SplitSpec) describe(side Side) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return describe("split", "side", side.String(), "test_frac", f(s.TestFraction), "train_frac", f(s.TrainFraction),
		"test_n", itoa(s.TestCount), "train_n", itoa(s.TrainCount), "seed", strconv.FormatUint(s.Seed, 10),
		"shuffle", strconv.FormatBool(!s.NoShuffle), "stratify", s.StratifyBy)
}

func (s SplitSpec) validate() error {
	bad := func(msg string) error { return fmt.Errorf("%w: train/test split: %s", ErrOp, msg) }
	switch {
	case s.TestFraction != 0 && s.TestCount != 0, s.TrainFraction != 0 && s.TrainCount != 0:
		return bad("give a fraction or a count per side, not both")
	case s.TestFraction < 0 || s.TestFraction >= 1 || s.TrainFraction < 0 || s.TrainFraction >= 1 || math.IsNaN(s.TestFraction) || math.IsNaN(s.TrainFraction):
		return bad("fractions must lie in (0, 1)")
	case s.TestCount < 0 || s.TrainCount < 0:
		return bad("counts must be positive")
	case s.NoShuffle && s.StratifyBy != "":
		return bad("stratified splits need shuffling")
	}
	return nil
}

// Sizes returns the train and test row counts for n rows.
func (s SplitSpec) Sizes(n int64) (train, test int64, err error) {
	if err := s.validate(); err != nil {
		return 0, 0, err
	}
	test, train = -1, -1
	switch {
	case s.TestFraction > 0:
		test = int64(math.Ceil(s.TestFraction * float64(n)))
	case s.TestCount > 0:
		test = s.TestCount
	}
	switch {
	case s.TrainFraction > 0:
		train = int64(math.Floor(s.TrainFraction * float64(n)))
	case s.TrainCount > 0:
		train = s.TrainCount
	}
	switch {
	case test < 0 && train < 0:
		test = int64(math.Ceil(0.25 * float64(n)))
		train = n - test
	case test < 0:
		test = n - train
	case train < 0:
		train = n - test
	}
	if train+test > n {
		return 0, 0, fmt.Errorf("%w: train/test split: %d train + %d test rows exceed the %d rows", ErrOp, train, test, n)
	}
	if train == 0 || test == 0 {
		return 0, 0, fmt.Errorf("%w: train/test split of %d rows leaves an empty side (train %d, test %d)", ErrOp, n, train, test)
	}
	return train, test, nil
}

// Split keeps one side of the train/test split spec. Split(spec, Train) and
// Split(spec, Test) are disjoint and deterministic in spec.Seed.
func Split(spec SplitSpec, side Side) IndexOp {
	o := &indexOp{desc: spec.describe(side), err: spec.validate()}
	o.fn = func(ctx context.Context, t Table) (Selection, error) {
		train, test, err := SplitPositions(ctx, t, spec)
		if err != nil {
			return Selection{}, err
		}
		if side == Test {
			return test, nil
		}
		return train, nil
	}
	return o
}

// SplitPositions computes both sides of a split of t.
func SplitPositions(ctx context.Context, t Table, spec SplitSpec) (train, test Selection, err error) {
	n := t.Len()
	nTrain, nTest, err := spec.Sizes(n)
	if err != nil {
		return Selection{}, Selection{}, err
	}
	if spec.NoShuffle {
		return Range(0, nTrain), Range(nTrain, nTest), nil
	}
	if spec.StratifyBy == "" {
		p := Permutation(n, spec.Seed)
		return Positions(p[nTest : nTest+nTrain : nTest+nTrain]), Positions(p[:nTest:nTest]), nil
	}
	col, err := t.Column(ctx, spec.StratifyBy)
	if err != nil {
		return Selection{}, Selection{}, fmt.Errorf("%w: stratify by %q: %w", ErrOp, spec.StratifyBy, err)
	}
	defer col.Release()
	classes := groupRows(col) // in order of first appearance: deterministic
	rng := NewRand(spec.Seed)
	testN := apportion(classes, nTest, n)
	trainN := apportion(classes, nTrain, n)
	var tr, te []int64
	for k, rows := range classes {
		rng.ShuffleInt64(rows)
		a := min(testN[k], int64(len(rows)))
		b := min(trainN[k], int64(len(rows))-a)
		te = append(te, rows[:a]...)
		tr = append(tr, rows[a:a+b]...)
	}
	rng.ShuffleInt64(te)
	rng.ShuffleInt64(tr)
	return Positions(tr), Positions(te), nil
}

// apportion divides total among classes in proportion to their sizes (of
// n rows), by largest remainder; ties go to the earlier class.
func apportion(classes [][]int64, total, n int64) []int64 {
	out := make([]int64, len(classes))
	type rem struct {
		k int
		r float64
	}
	rems := make([]rem, len(classes))
	var given int64
	for k, rows := range classes {
		exact := float64(total) * float64(len(rows)) / float64(n)
		out[k] = int64(math.Floor(exact))
		given += out[k]
		rems[k] = rem{k, exact - math.Floor(exact)}
	}
	// Stable selection of the largest remainders.
	for given < total {
		best := -1
		for k, r := range rems {
			if r.r >= 0 && (best < 0 || r.r > rems[best].r) {
				best = k
			}
		}
		if best < 0 {
			break
		}
		out[best]++
		rems[best].r = -1
		given++
	}
	return out
}
