// Package markup turns the Markdown staff write into the sanitised HTML we
// publish, and finds the hashtags and mentions in it.
package markup

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	ghtml "github.com/yuin/goldmark/renderer/html"
)

// Mention is an @user@host found in a text.
type Mention struct {
	User, Host string
}

// Acct is "user@host".
func (m Mention) Acct() string { return m.User + "@" + m.Host }

// Rendered is a post body ready to publish.
type Rendered struct {
	HTML     string
	Hashtags []string // without '#', lowercased, unique, in order
	Mentions []Mention
}

// Renderer renders Markdown with links for hashtags.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	tagURL func(tag string) string
}

// New returns a Renderer; tagURL builds the link of a hashtag page.
func New(tagURL func(tag string) string) *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.Linkify, extension.Strikethrough),
		goldmark.WithRendererOptions(ghtml.WithHardWraps()), // raw HTML is escaped (goldmark's default)
	)
	return &Renderer{md: md, policy: Policy(), tagURL: tagURL}
}

// Policy is the allow-list used for everything we publish: what Mastodon
// keeps of an incoming post, so our posts look the same everywhere.
func Policy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(mention|hashtag|u-url|h-card)( (mention|hashtag|u-url|h-card))*$`)).OnElements("a", "span")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(false)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.RequireNoReferrerOnLinks(false)
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^(tag|nofollow|noopener|noreferrer|ugc|me)( (tag|nofollow|noopener|noreferrer|ugc|me))*$`)).OnElements("a")
	return p
}

var (
	hashtagRE = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_&/#])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)`)
	mentionRE = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_/@])@([A-Za-z0-9_.-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,}|localhost|[0-9.]+)(?::([0-9]+))?`)
)

// Render converts Markdown to sanitised HTML, linking hashtags.
func (r *Renderer) Render(source string) (Rendered, error) {
	source = strings.ReplaceAll(source, "\x00", "")
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(source), &buf); err != nil {
		return Rendered{}, fmt.Errorf("render markdown: %w", err)
	}
	out := Rendered{Hashtags: Hashtags(source), Mentions: Mentions(source)}
	body := buf.String()
	if r.tagURL != nil {
		body = linkHashtags(body, r.tagURL)
	}
	out.HTML = strings.TrimSpace(r.policy.Sanitize(body))
	return out, nil
}

// Hashtags lists the hashtags in a text (lowercased, unique).
func Hashtags(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range hashtagRE.FindAllStringSubmatch(text, -1) {
		tag := strings.ToLower(m[1])
		if !seen[tag] {
			seen[tag] = true
			out = append(out, tag)
		}
	}
	return out
}

// Mentions lists the @user@host mentions in a text (unique).
func Mentions(text string) []Mention {
	var out []Mention
	seen := map[string]bool{}
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		host := strings.ToLower(m[2])
		if m[3] != "" {
			host += ":" + m[3]
		}
		mm := Mention{User: m[1], Host: strings.TrimRight(host, ".")}
		if !seen[mm.Acct()] {
			seen[mm.Acct()] = true
			out = append(out, mm)
		}
	}
	return out
}

// linkHashtags wraps #tags that appear in text nodes (not inside tags or
// code) in Mastodon-style hashtag links.
func linkHashtags(body string, tagURL func(string) string) string {
	var b strings.Builder
	inCode, inLink := 0, 0
	i := 0
	for i < len(body) {
		c := body[i]
		switch {
		case c == '<':
			end := strings.IndexByte(body[i:], '>')
			if end < 0 {
				b.WriteString(body[i:])
				return b.String()
			}
			tag := body[i : i+end+1]
			low := strings.ToLower(tag)
			switch {
			case strings.HasPrefix(low, "<code"), strings.HasPrefix(low, "<pre"):
				inCode++
			case strings.HasPrefix(low, "</code"), strings.HasPrefix(low, "</pre"):
				inCode--
			case strings.HasPrefix(low, "<a "), low == "<a>":
				inLink++
			case strings.HasPrefix(low, "</a"):
				inLink--
			}
			b.WriteString(tag)
			i += end + 1
		case c == '#' && inCode == 0 && inLink == 0 && (i == 0 || !isWordByte(body[i-1])):
			j := i + 1
			for j < len(body) {
				r := rune(body[j])
				if r >= 0x80 {
					// multi-byte letter: accept whole rune
					rr, size := utf8.DecodeRuneInString(body[j:])
					if unicode.IsLetter(rr) || unicode.IsDigit(rr) {
						j += size
						continue
					}
					break
				}
				if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
					j++
					continue
				}
				break
			}
			name := body[i+1 : j]
			if name == "" || !hasLetter(name) {
				b.WriteByte(c)
				i++
				continue
			}
			fmt.Fprintf(&b, `<a href="%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`, html.EscapeString(tagURL(strings.ToLower(html.UnescapeString(name)))), name)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || c == '&' || c == '/' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
