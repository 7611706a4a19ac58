package cases

import (
	"strings"
	"unicode"
)

// Common short words that tell Swedish, Finnish and English apart. They
// are frequent in questions and rare in the other two languages.
var languageWords = map[string][]string{
	"sv": {"och", "att", "det", "är", "jag", "vi", "inte", "som", "på", "för", "med", "till", "en", "ett", "har", "kan",
		"vad", "hur", "när", "var", "varför", "vem", "vilken", "finns", "ska", "om", "av", "min", "mitt", "vår", "hej", "tack"},
	"fi": {"ja", "on", "ei", "että", "se", "mitä", "mikä", "kuka", "missä", "mihin", "miksi", "milloin", "miten", "kuinka",
		"voiko", "onko", "saako", "minä", "me", "te", "he", "kun", "tai", "myös", "kiitos", "hei", "moi", "olen", "ovat",
		"meidän", "teidän", "vai", "nyt", "tänään", "huomenna", "koska", "jos", "mutta", "voi", "pitää"},
	"en": {"the", "and", "is", "are", "what", "when", "where", "why", "how", "who", "which", "can", "could", "do", "does",
		"you", "we", "i", "to", "of", "in", "for", "with", "this", "that", "hello", "thanks", "please", "will", "my", "our"},
}

var languageIndex = func() map[string]string {
	m := map[string]string{}
	for lang, ws := range languageWords {
		for _, w := range ws {
			m[w] = lang
		}
	}
	return m
}()

// DetectLanguage guesses whether text is Swedish ("sv"), Finnish ("fi") or
// English ("en") when the note carried no language tag: a count of common
// words, with "å" counting for Swedish and the Finnish double vowels and
// endings for Finnish. It returns "" when the text gives too little to go
// on. Staff see and can correct the language; this only routes and filters.
func DetectLanguage(text string) string {
	score := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if strings.HasPrefix(w, "@") {
			continue
		}
		if l, ok := languageIndex[w]; ok {
			score[l] += 2
		}
		if strings.ContainsRune(w, 'å') {
			score["sv"]++
		}
		if len(w) > 3 && finnishShape(w) {
			score["fi"]++
		}
	}
	best, second := "", 0
	for _, l := range []string{"sv", "fi", "en"} {
		switch {
		case best == "" || score[l] > score[best]:
			if best != "" {
				second = score[best]
			}
			best = l
		case score[l] > second:
			second = score[l]
		}
	}
	if score[best] < 2 || score[best] <= second {
		return ""
	}
	return best
}

// finnishShape: a double vowel or a case ending that Swedish words rarely
// have.
func finnishShape(w string) bool {
	for _, v := range []string{"ää", "öö", "yy", "uu", "ii", "aa"} {
		if strings.Contains(w, v) {
			return true
		}
	}
	for _, e := range []string{"ssa", "ssä", "llä", "stä", "kin", "kö", "lle"} {
		if strings.HasSuffix(w, e) {
			return true
		}
	}
	return false
}
