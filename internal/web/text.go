package web

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// plainText returns the text of sanitised post HTML, blocks separated by
// newlines, for titles and descriptions.
func plainText(h string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(h))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "br", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6":
				if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
					b.WriteByte('\n')
				}
			}
		}
	}
}

// firstLine returns the first non-empty line of text.
func firstLine(text string) string {
	text = strings.TrimSpace(text)
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		return text[:i]
	}
	return text
}

// clip collapses whitespace and cuts text at a word boundary to at most
// max runes (with "…" when cut).
func clip(text string, max int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= max {
		return text
	}
	r := []rune(text)[:max]
	cut := len(r)
	for i := len(r) - 1; i > max/2; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), func(c rune) bool { return unicode.IsSpace(c) || unicode.IsPunct(c) }) + "…"
}

// shiftHeadings lowers the headings of sanitised post HTML by n levels
// (h1 → h3 for n = 2, at most h6), so that a post's "# …" does not compete
// with the page's own h1 and section headings. The allow-list keeps no
// attributes on headings, so the tags are exact.
func shiftHeadings(h string, n int) string {
	if n <= 0 || !strings.Contains(h, "<h") {
		return h
	}
	var pairs []string
	for l := 6; l >= 1; l-- {
		to := l + n
		if to > 6 {
			to = 6
		}
		pairs = append(pairs, "<h"+strconv.Itoa(l)+">", "<h"+strconv.Itoa(to)+">", "</h"+strconv.Itoa(l)+">", "</h"+strconv.Itoa(to)+">")
	}
	return strings.NewReplacer(pairs...).Replace(h)
}
