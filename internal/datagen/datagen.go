// Package datagen generates a deterministic, realistic text dataset for
// Quiver's tests and benchmarks.
//
// Every row has a sequential id, a text of 50–2000 characters of word salad
// (mostly English, with accented Latin, CJK, emoji and the odd quote,
// backslash, newline, tab or control character), an unbalanced label out of
// 8 classes, a score, 0–5 tags, a meta struct and a 16-float embedding
// clustered by label. About 5% of labels, scores and tag lists are null.
//
// The same Config gives the same rows through every API: WriteJSONL (fast,
// hand-written JSON), Rows (Go structs) and Batches (Arrow record batches).
// Generation uses math/rand/v2's PCG: each block of BlockRows rows draws
// from its own stream, seeded from Config.Seed and the block number, so the
// output is identical on every machine, for any worker count, and on every
// Go release that keeps PCG's algorithm. testdata/sample.jsonl (seed 1,
// 1000 rows) is checked against the generator by TestSampleGolden.
package datagen

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
)

// EmbeddingDim is the length of Row.Embedding.
const EmbeddingDim = 16

// Text length bounds, in characters (Unicode code points).
const (
	MinTextChars = 50
	MaxTextChars = 2000
)

// Meta is the nested struct of a Row.
type Meta struct {
	Source string `quiver:"source" json:"source"`
	Lang   string `quiver:"lang" json:"lang"`
	// Len is the length of Row.Text in bytes.
	Len int64 `quiver:"len" json:"len"`
}

// Row is one generated row. Nil Label, Score and Tags are nulls (JSON null).
type Row struct {
	ID        int64                 `quiver:"id" json:"id"`
	Text      string                `quiver:"text" json:"text"`
	Label     *string               `quiver:"label" json:"label"`
	Score     *float64              `quiver:"score" json:"score"`
	Tags      []string              `quiver:"tags" json:"tags"`
	Meta      Meta                  `quiver:"meta" json:"meta"`
	Embedding [EmbeddingDim]float32 `quiver:"embedding" json:"embedding"`
}

// Labels returns the label classes, most frequent first.
func Labels() []string { return append([]string(nil), labels...) }

// Schema returns the Arrow schema of Batches: arrowio.SchemaOf[Row].
func Schema() *arrow.Schema {
	s, err := arrowio.SchemaOf[Row]()
	if err != nil {
		panic(err) // Row is fixed; a failure here is a programming error
	}
	return s
}

// Config says which rows to generate.
type Config struct {
	// Seed selects the dataset; equal seeds give equal rows.
	Seed uint64
	// Rows is the number of rows. When zero, Bytes decides.
	Rows int64
	// Bytes, used when Rows is zero, is a target size of the JSON Lines
	// output: generation stops before the first row that would take the
	// output past Bytes, so the output is at most Bytes and short of it by
	// less than one row (rows average about 0.9 KB). Zero rows when both
	// Rows and Bytes are zero.
	Bytes int64
}

func (c Config) validate() error {
	if c.Rows < 0 || c.Bytes < 0 {
		return fmt.Errorf("datagen: negative rows (%d) or bytes (%d)", c.Rows, c.Bytes)
	}
	return nil
}

// plan is one generated row before it is rendered as JSON or as a Row.
// Both renderings read the same plan, so they cannot disagree.
type plan struct {
	id          int64
	words       []*word
	seps        []uint8 // separator before words[i], i ≥ 1
	textBytes   int
	label       int // -1 for null
	score       float64
	scoreMicros int64 // score × 10⁶, what the JSON text is written from
	hasScore    bool
	tags        []uint8
	hasTags     bool
	source      int
	lang        int
	emb         [EmbeddingDim]float32
	embQuanta   [EmbeddingDim]int32 // emb × 10⁴
}

var separators = [...]string{" ", ", ", ". "}

type generator struct {
	rng     *rand.Rand
	pcg     *rand.PCG // rng's source, called directly in the hot loop
	seed    uint64
	centers [8][EmbeddingDim]float32
	id      int64
	p       plan
}

// BlockRows is the number of rows generated from one random stream. The
// rows of block b (ids b*BlockRows onwards) depend only on the seed and b,
// which is what lets WriteJSONL generate blocks in parallel and still write
// the same bytes whatever the worker count.
const BlockRows = 1024

func newGenerator(seed uint64) *generator {
	pcg := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	g := &generator{rng: rand.New(pcg), pcg: pcg}
	for c := range g.centers {
		for k := range g.centers[c] {
			g.centers[c][k] = g.rng.Float32()*2 - 1
		}
	}
	g.seed = seed
	return g
}

// startBlock reseeds the generator for block b: the next row is
// b*BlockRows.
func (g *generator) startBlock(b int64) {
	s1 := splitmix64(g.seed ^ splitmix64(uint64(b)+1))
	g.pcg.Seed(s1, splitmix64(s1))
	g.id = b * BlockRows
}

// splitmix64 is a 64-bit mixing function (Steele, Lea and Flood's
// SplitMix64 finalizer): nearby inputs give unrelated outputs.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// pick chooses a vocabulary word from one random draw: bits 0–9 choose the
// group, bits 10–29 the word, bits 30–33 the separator.
func pick(x uint64) (*word, uint8) {
	group := x & 1023
	u := x >> 10 & (1<<20 - 1)
	var list []word
	switch {
	case group < 962:
		// Zipf-like: squaring a uniform favours the first words.
		i := int(u * u * uint64(len(commonWords)) >> 40)
		return &commonWords[i], sepOf(x)
	case group < 1000:
		list = accentedWords
	case group < 1012:
		list = cjkWords
	case group < 1020:
		list = emojiWords
	default:
		list = escapeWords
	}
	return &list[int(u)%len(list)], sepOf(x)
}

func sepOf(x uint64) uint8 {
	switch x >> 30 & 15 {
	case 0:
		return 2
	case 1, 2:
		return 1
	}
	return 0
}

// appendDecimal appends q/10^decimals in the shortest decimal form: no
// exponent, no trailing zeros, "0" for zero.
func appendDecimal(b []byte, q int64, decimals int) []byte {
	if q < 0 {
		b = append(b, '-')
		q = -q
	}
	scale := int64(1)
	for range decimals {
		scale *= 10
	}
	b = strconv.AppendInt(b, q/scale, 10)
	frac := q % scale
	if frac == 0 {
		return b
	}
	for frac%10 == 0 {
		frac /= 10
		decimals--
	}
	b = append(b, '.')
	var digits [20]byte
	for i := decimals - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, digits[:decimals]...)
}

// next generates the next row into g.p. The draws happen in a fixed order;
// changing it changes every dataset.
func (g *generator) next() *plan {
	r, p := g.rng, &g.p
	p.id = g.id
	g.id++

	// Text: a skewed length (many short texts, a few long ones).
	u := r.Float64()
	target := MinTextChars + int(float64(MaxTextChars-MinTextChars)*u*u*u)
	p.words, p.seps = p.words[:0], p.seps[:0]
	runes, size := 0, 0
	for runes < target {
		w, sep := pick(g.pcg.Uint64()) // same draw as r.Uint64(), without the interface call
		add, addBytes := w.runes, len(w.raw)
		if len(p.words) > 0 {
			add += len(separators[sep])
			addBytes += len(separators[sep])
		}
		if runes+add > MaxTextChars {
			break
		}
		p.words = append(p.words, w)
		p.seps = append(p.seps, sep)
		runes += add
		size += addBytes
	}
	p.textBytes = size

	// Label: 5% null, otherwise weighted.
	p.label = -1
	if r.Float64() >= 0.05 {
		x := r.IntN(1000)
		for i, wt := range labelWeights {
			if x < wt {
				p.label = i
				break
			}
			x -= wt
		}
	}
	// Score: 5% null, six decimals.
	p.hasScore = r.Float64() >= 0.05
	if p.hasScore {
		p.scoreMicros = r.Int64N(1_000_001)
		p.score = float64(p.scoreMicros) / 1e6
	}
	// Tags: 5% null, otherwise 0–5 distinct tags.
	p.hasTags = r.Float64() >= 0.05
	p.tags = p.tags[:0]
	if p.hasTags {
		n := r.IntN(6)
		for len(p.tags) < n {
			t := uint8(r.IntN(len(tagSet)))
			if !containsTag(p.tags, t) {
				p.tags = append(p.tags, t)
			}
		}
	}
	p.source = r.IntN(len(sources))
	p.lang = r.IntN(len(langs))
	// Embedding: the label's centre plus noise, four decimals.
	c := p.label
	if c < 0 {
		c = r.IntN(len(g.centers))
	}
	for k := range p.emb {
		v := float64(g.centers[c][k]) + float64(r.Float32()-0.5)
		q := int32(math.Round(v * 1e4))
		p.embQuanta[k] = q
		// One correctly rounded float32 division: the same float32 that
		// parsing the JSON text of q/10⁴ gives.
		p.emb[k] = float32(q) / 1e4
	}
	return p
}

func containsTag(tags []uint8, t uint8) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// Precomputed JSON string literals of the small vocabularies.
var (
	labelJSON  = jsonStrings(labels)
	sourceJSON = jsonStrings(sources)
	langJSON   = jsonStrings(langs)
	tagJSON    = jsonStrings(tagSet)
)

func jsonStrings(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = `"` + string(appendEscaped(nil, s)) + `"`
	}
	return out
}

// appendJSON appends p as one JSON Lines line, newline included. Keys come
// in a fixed order: id, text, label, score, tags, meta, embedding.
func appendJSON(b []byte, p *plan) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, p.id, 10)
	b = append(b, `,"text":"`...)
	for i, w := range p.words {
		if i > 0 {
			b = append(b, separators[p.seps[i]]...)
		}
		b = append(b, w.json...)
	}
	b = append(b, `","label":`...)
	if p.label < 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, labelJSON[p.label]...)
	}
	b = append(b, `,"score":`...)
	if p.hasScore {
		b = appendDecimal(b, p.scoreMicros, 6)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"tags":`...)
	if p.hasTags {
		b = append(b, '[')
		for i, t := range p.tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, tagJSON[t]...)
		}
		b = append(b, ']')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"meta":{"source":`...)
	b = append(b, sourceJSON[p.source]...)
	b = append(b, `,"lang":`...)
	b = append(b, langJSON[p.lang]...)
	b = append(b, `,"len":`...)
	b = strconv.AppendInt(b, int64(p.textBytes), 10)
	b = append(b, `},"embedding":[`...)
	for k, v := range p.embQuanta {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendDecimal(b, int64(v), 4)
	}
	return append(b, "]}\n"...)
}

// fill renders p into r, reusing nothing: every pointer and slice in r is
// new, so rows handed out are independent.
func (p *plan) fill(r *Row) {
	var sb strings.Builder
	sb.Grow(p.textBytes)
	for i, w := range p.words {
		if i > 0 {
			sb.WriteString(separators[p.seps[i]])
		}
		sb.WriteString(w.raw)
	}
	*r = Row{ID: p.id, Text: sb.String(),
		Meta:      Meta{Source: sources[p.source], Lang: langs[p.lang], Len: int64(p.textBytes)},
		Embedding: p.emb}
	if p.label >= 0 {
		l := labels[p.label]
		r.Label = &l
	}
	if p.hasScore {
		s := p.score
		r.Score = &s
	}
	if p.hasTags {
		r.Tags = make([]string, len(p.tags))
		for i, t := range p.tags {
			r.Tags[i] = tagSet[t]
		}
	}
}

// run generates the rows cfg asks for and calls fn with each plan and, when
// needed for size targeting or when wantJSON is set, its JSON line. The
// line is valid only during the call. run stops when fn returns false.
func run(cfg Config, wantJSON bool, fn func(p *plan, line []byte) bool) {
	g := newGenerator(cfg.Seed)
	bySize := cfg.Rows == 0
	var line []byte
	var total int64
	for i := int64(0); bySize || i < cfg.Rows; i++ {
		if bySize && total >= cfg.Bytes {
			return
		}
		if i%BlockRows == 0 {
			g.startBlock(i / BlockRows)
		}
		p := g.next()
		if wantJSON || bySize {
			line = appendJSON(line[:0], p)
		}
		if bySize {
			if total+int64(len(line)) > cfg.Bytes {
				return
			}
			total += int64(len(line))
		}
		if !fn(p, line) {
			return
		}
	}
}

// WriteJSONL writes the rows of cfg to w as JSON Lines and returns how many
// it wrote. Blocks of BlockRows rows are generated on GOMAXPROCS goroutines
// and written in order, so the output does not depend on the worker count.
// It buffers internally (a few MiB per worker, whatever the size) and
// flushes before returning; it does not close w. The error is the first
// write error, or an invalid Config.
func WriteJSONL(w io.Writer, cfg Config) (rows int64, err error) {
	if err := cfg.validate(); err != nil {
		return 0, err
	}
	return writeJSONL(w, cfg, runtime.GOMAXPROCS(0))
}

// block is the JSON text of one block's rows and where each line ends.
type block struct {
	text []byte
	ends []int
}

func writeJSONL(w io.Writer, cfg Config, workers int) (rows int64, err error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	if workers <= 1 || cfg.Rows > 0 && cfg.Rows <= BlockRows {
		run(cfg, true, func(_ *plan, line []byte) bool {
			if _, err = bw.Write(line); err != nil {
				return false
			}
			rows++
			return true
		})
		if err != nil {
			return rows, err
		}
		return rows, bw.Flush()
	}

	// An ordered pipeline: the dispatcher hands block numbers to workers
	// and queues each block's result channel; the writer below takes the
	// results in queue order.
	done := make(chan struct{})
	type job struct {
		b   int64
		out chan *block
	}
	queue := make(chan job, 2*workers)
	work := make(chan job)
	var wg sync.WaitGroup
	blocks := int64(-1) // unbounded when sizing by bytes
	if cfg.Rows > 0 {
		blocks = (cfg.Rows + BlockRows - 1) / BlockRows
	}
	wg.Add(1)
	go func() { // dispatcher
		defer wg.Done()
		defer close(work)
		defer close(queue)
		for b := int64(0); blocks < 0 || b < blocks; b++ {
			j := job{b, make(chan *block, 1)}
			select {
			case queue <- j:
			case <-done:
				return
			}
			select {
			case work <- j:
			case <-done:
				return
			}
		}
	}()
	pool := sync.Pool{New: func() any { return &block{} }}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGenerator(cfg.Seed)
			for j := range work {
				blk := pool.Get().(*block)
				blk.text, blk.ends = blk.text[:0], blk.ends[:0]
				g.startBlock(j.b)
				n := int64(BlockRows)
				if cfg.Rows > 0 {
					n = min(n, cfg.Rows-j.b*BlockRows)
				}
				for range n {
					blk.text = appendJSON(blk.text, g.next())
					blk.ends = append(blk.ends, len(blk.text))
				}
				j.out <- blk // buffered: never blocks
			}
		}()
	}
	var total int64
	stop := false
	for j := range queue {
		blk := <-j.out
		text, n := blk.text, len(blk.ends)
		if cfg.Rows == 0 {
			// Keep the rows that fit in the byte budget.
			n = 0
			for n < len(blk.ends) && total+int64(blk.ends[n]) <= cfg.Bytes {
				n++
			}
			if n > 0 {
				text = text[:blk.ends[n-1]]
			} else {
				text = text[:0]
			}
			stop = n < len(blk.ends)
		}
		if _, err = bw.Write(text); err != nil {
			stop = true
		} else {
			rows += int64(n)
			total += int64(len(text))
		}
		pool.Put(blk)
		if stop {
			break
		}
	}
	// Result channels are buffered, so workers never wait on the writer:
	// stopping the dispatcher is enough for every goroutine to end.
	close(done)
	wg.Wait()
	if err != nil {
		return rows, err
	}
	return rows, bw.Flush()
}

// Rows yields the rows of cfg as structs, the same rows WriteJSONL writes.
// Each yielded Row is the caller's to keep. An invalid Config yields
// nothing. The iterator may be ranged over more than once; each pass
// generates the rows again from the seed.
func Rows(cfg Config) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		if cfg.validate() != nil {
			return
		}
		run(cfg, false, func(p *plan, _ []byte) bool {
			var r Row
			p.fill(&r)
			return yield(r)
		})
	}
}

// Batches yields the rows of cfg as Arrow record batches of at most
// batchSize rows (arrowio.DefaultBatchSize when batchSize ≤ 0), with the
// schema Schema, allocated from mem (nil means memory.DefaultAllocator).
// Each batch is borrowed: it is released when the loop body returns, so a
// consumer that keeps one must Retain it. An invalid Config yields one
// error.
func Batches(mem memory.Allocator, cfg Config, batchSize int) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		if err := cfg.validate(); err != nil {
			yield(nil, err)
			return
		}
		if batchSize <= 0 {
			batchSize = arrowio.DefaultBatchSize
		}
		b, err := arrowio.NewRowBuilder[Row](mem)
		if err != nil {
			yield(nil, err)
			return
		}
		defer b.Release()
		// Rows are gathered per batch and appended at once, so the builder
		// can size its buffers before copying.
		chunk := make([]Row, 0, min(batchSize, 8192))
		flush := func() error {
			err := b.AppendRows(chunk)
			clear(chunk)
			chunk = chunk[:0]
			return err
		}
		emit := func() bool {
			if err := flush(); err != nil {
				yield(nil, err)
				return false
			}
			batch := b.NewBatch()
			defer batch.Release()
			return yield(batch, nil)
		}
		stopped, pending := false, 0
		run(cfg, false, func(p *plan, _ []byte) bool {
			chunk = append(chunk, Row{})
			p.fill(&chunk[len(chunk)-1])
			pending++
			if pending == batchSize {
				pending = 0
				if !emit() {
					stopped = true
					return false
				}
			} else if len(chunk) == cap(chunk) {
				if err := flush(); err != nil {
					yield(nil, err)
					stopped = true
					return false
				}
			}
			return true
		})
		if !stopped && pending > 0 {
			emit()
		}
	}
}
