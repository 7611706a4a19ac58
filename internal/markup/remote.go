package markup

import (
	"html"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// RemotePolicy is the allow-list for HTML written on other servers
// (residents' posts): links, paragraphs, line breaks, mentions, hashtags,
// code, lists and emphasis. Everything else — images, scripts, styles,
// event handlers, iframes, forms, headings — is dropped (its text kept).
// Links get rel="nofollow ugc noopener" from SanitizeRemote.
func RemotePolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "span")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(mention|hashtag|u-url|h-card)( (mention|hashtag|u-url|h-card))*$`)).OnElements("a", "span")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.SkipElementsContent("script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math")
	return p
}

var (
	remotePolicy     *bluemonday.Policy
	remotePolicyOnce sync.Once
	anchorRE         = regexp.MustCompile(`<a href="`)
	shortcodeRE      = regexp.MustCompile(`:[A-Za-z0-9_+-]{1,64}:`)
)

// RemoteEmoji maps a custom emoji's ":shortcode:" to the (proxied) URL of
// its image.
type RemoteEmoji map[string]string

// SanitizeRemote cleans remote HTML to RemotePolicy, marks every link
// rel="nofollow ugc noopener", and renders the custom emoji named in
// emoji as images whose alt text is the shortcode (in text only, never
// inside links or code). Shortcodes without an entry stay text.
func SanitizeRemote(body string, emoji RemoteEmoji) string {
	remotePolicyOnce.Do(func() { remotePolicy = RemotePolicy() })
	out := strings.TrimSpace(remotePolicy.Sanitize(strings.ReplaceAll(body, "\x00", "")))
	out = anchorRE.ReplaceAllString(out, `<a rel="nofollow ugc noopener" href="`)
	if len(emoji) > 0 {
		out = mapText(out, func(text string) string {
			return shortcodeRE.ReplaceAllStringFunc(text, func(code string) string {
				src, ok := emoji[code]
				if !ok {
					return code
				}
				return `<img class="emoji" src="` + html.EscapeString(src) + `" alt="` + html.EscapeString(code) +
					`" title="` + html.EscapeString(code) + `" width="20" height="20" loading="lazy">`
			})
		})
	}
	return out
}

// PlainText reduces sanitised HTML to text (for the moderation rules and
// for search), with block ends as spaces.
func PlainText(body string) string {
	var b strings.Builder
	for len(body) > 0 {
		i := strings.IndexByte(body, '<')
		if i < 0 {
			b.WriteString(body)
			break
		}
		b.WriteString(body[:i])
		end := strings.IndexByte(body[i:], '>')
		if end < 0 {
			break
		}
		tag := strings.ToLower(body[i : i+end+1])
		if strings.HasPrefix(tag, "<br") || strings.HasPrefix(tag, "</p") || strings.HasPrefix(tag, "</li") {
			b.WriteByte(' ')
		}
		body = body[i+end+1:]
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}
