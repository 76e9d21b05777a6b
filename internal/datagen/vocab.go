package datagen

import "unicode/utf8"

// word is one vocabulary entry with its JSON form precomputed, so writing
// JSON Lines is a copy, not an escape, per word.
type word struct {
	raw   string
	json  string // raw escaped for the inside of a JSON string
	runes int
}

func words(list ...string) []word {
	out := make([]word, len(list))
	for i, s := range list {
		out[i] = word{raw: s, json: string(appendEscaped(nil, s)), runes: utf8.RuneCountInString(s)}
	}
	return out
}

// appendEscaped appends s escaped for the inside of a JSON string: quote,
// backslash and control characters are escaped, everything else (valid
// UTF-8 by construction) is copied.
func appendEscaped(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// The vocabulary. Common words are picked with a Zipf-like skew (earlier
// words more often); the other groups add the non-ASCII and escape-needing
// text a real corpus has.
var (
	commonWords = words(
		"the", "of", "and", "to", "a", "in", "is", "it", "that", "for",
		"was", "on", "are", "as", "with", "his", "they", "at", "be", "this",
		"from", "have", "or", "by", "one", "had", "not", "but", "what", "all",
		"were", "when", "we", "there", "can", "an", "your", "which", "their", "said",
		"if", "do", "will", "each", "about", "how", "up", "out", "them", "then",
		"she", "many", "some", "so", "these", "would", "other", "into", "has", "more",
		"her", "two", "like", "him", "see", "time", "could", "no", "make", "than",
		"first", "been", "its", "who", "now", "people", "my", "made", "over", "did",
		"down", "only", "way", "find", "use", "may", "water", "long", "little", "very",
		"after", "words", "called", "just", "where", "most", "know", "get", "through", "back",
		"much", "before", "go", "good", "new", "write", "our", "used", "me", "man",
		"too", "any", "day", "same", "right", "look", "think", "also", "around", "another",
		"came", "come", "work", "three", "word", "must", "because", "does", "part", "even",
		"place", "well", "such", "here", "take", "why", "things", "help", "put", "years",
		"different", "away", "again", "off", "went", "old", "number", "great", "tell", "men",
		"say", "small", "every", "found", "still", "between", "name", "should", "home", "big",
		"give", "air", "line", "set", "own", "under", "read", "last", "never", "us",
		"left", "end", "along", "while", "might", "next", "sound", "below", "saw", "something",
		"thought", "both", "few", "those", "always", "show", "large", "often", "together", "asked",
		"house", "don't", "world", "going", "want", "school", "important", "until", "form", "food",
		"keep", "children", "feet", "land", "side", "without", "boy", "once", "animals", "life",
		"enough", "took", "sometimes", "four", "head", "above", "kind", "began", "almost", "live",
		"page", "got", "earth", "need", "far", "hand", "high", "year", "mother", "light",
		"parts", "country", "father", "let", "night", "following", "picture", "being", "study", "second",
		"eyes", "soon", "times", "story", "boys", "since", "white", "days", "ever", "paper",
		"hard", "near", "sentence", "better", "best", "across", "during", "today", "others", "however",
		"sure", "means", "knew", "try", "told", "young", "miles", "sun", "ways", "thing",
		"whole", "hear", "example", "heard", "several", "change", "answer", "room", "sea", "against",
		"top", "turned", "learn", "point", "city", "play", "toward", "five", "using", "himself",
		"usually", "model", "dataset", "training", "tensor", "gradient", "batch", "shard", "token", "vector",
		"2024", "42", "3.14", "100%", "e-mail", "co-operate", "state-of-the-art", "U.S.", "etc.", "i.e.",
	)
	accentedWords = words(
		"café", "naïve", "résumé", "Straße", "São", "jalapeño", "crème", "brûlée", "über", "façade",
		"smørrebrød", "Ångström", "Zürich", "Kraków", "İstanbul", "déjà", "vu", "piñata", "señor", "niño",
		"Ærø", "Øresund", "coöperate", "fiancée", "Málaga", "Škoda", "Dvořák", "Łódź", "Αθήνα", "Москва",
	)
	cjkWords = words(
		"数据", "模型", "训练", "日本語", "東京", "한국어", "서울", "北京", "人工智能", "学习",
		"データ", "機械学習", "中文", "テスト", "文字",
	)
	emojiWords = words(
		"🚀", "😀", "🎉", "👍🏽", "❤️", "🔥", "🤖", "📊", "✨", "🇯🇵", "👩‍💻", "🙈",
	)
	escapeWords = words(
		`"quoted"`, `back\slash`, "line\nbreak", "tab\tseparated", `C:\Users\data`,
		"\r\n", `say "hi"`, "bell\x07char", "end\n", `{"json": [1, 2]}`,
	)
	labels  = []string{"sports", "politics", "science", "technology", "health", "business", "entertainment", "travel"}
	sources = []string{"web", "books", "wiki", "news", "forum", "code"}
	langs   = []string{"en", "fr", "de", "es", "zh", "ja"}
	tagSet  = []string{
		"short", "long", "clean", "noisy", "faq", "dialogue", "list", "code", "math", "quote",
		"review", "opinion", "howto", "legal", "medical", "finance", "sport", "music", "film", "travel",
		"recipe", "science", "history", "kids", "toxic?", "dup", "translated", "ocr", "résumé", "日本",
	}
)

// labelWeights makes the classes unbalanced, as real labels are, so that
// stratified splits are worth testing. They sum to 1000.
var labelWeights = [8]int{250, 180, 150, 120, 100, 90, 70, 40}
