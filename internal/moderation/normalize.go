package moderation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalisation, decided once for rules and text alike:
//
//   - lower-case (Unicode simple folding);
//   - diacritics are folded away (é→e, ü→u, ç→c, ñ→n …), EXCEPT the Swedish
//     letters å, ä and ö, which are letters of their own in Swedish and stay
//     distinct from a and o ("hår" is not "har", "för" is not "for");
//   - the Nordic variants æ and ø count as ä and ö, as Swedish readers read them;
//   - every run of white space becomes one space.
//
// Rules and text go through the same function, so a word rule "hot" matches
// "HOT" and "hót" but not "höt".
func Normalize(s string) string {
	out, ok := normalize(s)
	if !ok {
		// A combining mark: compose first, so that å typed as a + ring is å.
		out, _ = normalize(norm.NFC.String(s))
	}
	return out
}

// normalize does the work; ok is false when it met a combining mark that
// composition might have joined with the letter before it.
func normalize(s string) (string, bool) {
	composed := true
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
				if !space {
					b.WriteByte(' ')
				}
				space = true
				continue
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			}
			space = false
			b.WriteByte(c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if int(r) < len(foldTable) {
			if f := foldTable[r]; f != 0 {
				b.WriteRune(f)
				continue
			}
		}
		if unicode.Is(unicode.Mn, r) {
			composed = false
			continue // a combining mark (dropped after composition)
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String(), composed
}

// foldTable maps the Latin-1 and Latin Extended-A/B letters to their
// folded lower-case form, computed once at start.
var foldTable [0x250]rune

func init() {
	keep := map[rune]rune{'å': 'å', 'ä': 'ä', 'ö': 'ö', 'Å': 'å', 'Ä': 'ä', 'Ö': 'ö',
		'æ': 'ä', 'Æ': 'ä', 'ø': 'ö', 'Ø': 'ö', 'ß': 's', 'ð': 'd', 'Ð': 'd', 'þ': 't', 'Þ': 't', 'ł': 'l', 'Ł': 'l', 'đ': 'd', 'Đ': 'd'}
	for r := rune(0x80); r < 0x250; r++ {
		if k, ok := keep[r]; ok {
			foldTable[r] = k
			continue
		}
		if !unicode.IsLetter(r) {
			continue
		}
		d := norm.NFD.String(string(unicode.ToLower(r)))
		base, _ := utf8.DecodeRuneInString(d)
		foldTable[r] = base
	}
}

// isWordRune reports whether r is part of a word (letters, digits, marks).
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r)
}
