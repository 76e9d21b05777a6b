package arrowio

import (
	"bytes"
	"math/rand/v2"
	"strconv"
)

var synthWords = []string{"the", "model", "dataset", "arrow", "quiver", "token", "über", "naïve", "café",
	"日本語", "données", "Ελληνικά", "training", "batch", "shard", "emoji🙂", "\"quoted\"", "back\\slash", "tab\there", "new\nline"}

// synthJSONL generates n lines of a realistic text dataset: ids, 50–2000
// character texts with some non-ASCII and escapes, labels, floats with some
// nulls, a list of strings, a nested struct and a 16-float embedding.
func synthJSONL(n int, seed uint64) []byte {
	return synthJSONLWords(n, seed, synthWords)
}

// synthPlainWords leaves out the words that need JSON escapes.
var synthPlainWords = synthWords[:len(synthWords)-4]

func synthJSONLWords(n int, seed uint64, words []string) []byte {
	rng := rand.New(rand.NewPCG(seed, 42))
	var b bytes.Buffer
	var text []byte
	for i := range n {
		b.WriteString(`{"id":`)
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`,"text":`)
		text = text[:0]
		for target := 50 + rng.IntN(1950); len(text) < target; {
			if len(text) > 0 {
				text = append(text, ' ')
			}
			text = append(text, words[rng.IntN(len(words))]...)
		}
		b.Write(appendJSONString(nil, string(text)))
		b.WriteString(`,"label":"`)
		b.WriteString([]string{"pos", "neg", "neutral"}[rng.IntN(3)])
		b.WriteString(`","score":`)
		if rng.IntN(20) == 0 {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.FormatFloat(rng.Float64()*100, 'f', -1, 64))
		}
		b.WriteString(`,"tags":[`)
		for k := range rng.IntN(4) {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"tag` + strconv.Itoa(rng.IntN(50)) + `"`)
		}
		b.WriteString(`],"meta":`)
		if rng.IntN(10) == 0 {
			b.WriteString("null")
		} else {
			b.WriteString(`{"source":"web","lang":"`)
			b.WriteString([]string{"en", "fr", "de", "ja"}[rng.IntN(4)])
			b.WriteString(`","tokens":`)
			b.WriteString(strconv.Itoa(rng.IntN(4096)))
			b.WriteString(`}`)
		}
		b.WriteString(`,"emb":[`)
		for k := range 16 {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(rng.Float64()*2-1, 'f', 6, 64))
		}
		b.WriteString("]}\n")
	}
	return b.Bytes()
}
