// Package markup turns the Markdown staff write into the sanitised HTML we
// publish, and finds the hashtags and mentions in it.
package markup

import (
	"bytes"
	"fmt"
	"html"
	"reflect"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
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
		goldmark.WithParser(textOnlyParser()),
		goldmark.WithExtensions(extension.Linkify, extension.Strikethrough),
		goldmark.WithRendererOptions(ghtml.WithHardWraps()),
	)
	return &Renderer{md: md, policy: Policy(), tagURL: tagURL}
}

// textOnlyParser is goldmark's parser without raw HTML: what staff type as
// "<script>" or "<3" is text and shows as such. (With the default parser
// goldmark drops raw HTML from the output, so a post starting with a tag
// would be published empty.)
func textOnlyParser() parser.Parser {
	htmlBlock := reflect.TypeOf(parser.NewHTMLBlockParser())
	rawHTML := reflect.TypeOf(parser.NewRawHTMLParser())
	var blocks, inlines []util.PrioritizedValue
	for _, v := range parser.DefaultBlockParsers() {
		if reflect.TypeOf(v.Value) != htmlBlock {
			blocks = append(blocks, v)
		}
	}
	for _, v := range parser.DefaultInlineParsers() {
		if reflect.TypeOf(v.Value) != rawHTML {
			inlines = append(inlines, v)
		}
	}
	return parser.NewParser(parser.WithBlockParsers(blocks...), parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...))
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

// linkHashtags wraps #tags that appear in text (not inside links or code)
// in Mastodon-style hashtag links.
func linkHashtags(body string, tagURL func(string) string) string {
	return mapText(body, func(text string) string {
		return hashtagRE.ReplaceAllStringFunc(text, func(m string) string {
			sub := hashtagRE.FindStringSubmatch(m)
			prefix := m[:len(m)-len(sub[1])-1]
			name := sub[1]
			return prefix + `<a href="` + html.EscapeString(tagURL(strings.ToLower(html.UnescapeString(name)))) +
				`" class="mention hashtag" rel="tag">#<span>` + name + `</span></a>`
		})
	})
}

// LinkMentions turns each @user@host in text into a Mastodon-style h-card
// link to the actor's profile; hrefs maps "user@host" to that URL. Mentions
// without an entry stay plain text.
func LinkMentions(body string, hrefs map[string]string) string {
	if len(hrefs) == 0 {
		return body
	}
	return mapText(body, func(text string) string {
		return mentionRE.ReplaceAllStringFunc(text, func(m string) string {
			sub := mentionRE.FindStringSubmatch(m)
			host := strings.ToLower(sub[2])
			if sub[3] != "" {
				host += ":" + sub[3]
			}
			href, ok := hrefs[sub[1]+"@"+host]
			if !ok {
				return m
			}
			prefix := m[:strings.Index(m, "@")]
			return prefix + `<span class="h-card"><a href="` + html.EscapeString(href) + `" class="u-url mention">@<span>` +
				html.EscapeString(sub[1]) + `</span></a></span>`
		})
	})
}

// mapText applies fn to the text between tags of an HTML fragment, except
// inside <a>, <code> and <pre>.
func mapText(body string, fn func(string) string) string {
	var b strings.Builder
	skip := 0
	for len(body) > 0 {
		i := strings.IndexByte(body, '<')
		if i < 0 {
			i = len(body)
		}
		if i > 0 {
			if skip == 0 {
				b.WriteString(fn(body[:i]))
			} else {
				b.WriteString(body[:i])
			}
			body = body[i:]
			continue
		}
		end := strings.IndexByte(body, '>')
		if end < 0 {
			b.WriteString(body)
			break
		}
		tag := strings.ToLower(body[:end+1])
		switch {
		case strings.HasPrefix(tag, "<a ") || tag == "<a>" || strings.HasPrefix(tag, "<code") || strings.HasPrefix(tag, "<pre"):
			skip++
		case strings.HasPrefix(tag, "</a") || strings.HasPrefix(tag, "</code") || strings.HasPrefix(tag, "</pre"):
			if skip > 0 {
				skip--
			}
		}
		b.WriteString(body[:end+1])
		body = body[end+1:]
	}
	return b.String()
}
