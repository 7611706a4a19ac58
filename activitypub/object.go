package activitypub

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// PostTypes are the object types a resident's post may have: Mastodon,
// Pleroma, Akkoma, Misskey and GoToSocial send Note (Question for polls),
// Lemmy and Mbin send Page for a thread's first post, blogs send Article.
var PostTypes = map[string]bool{"Note": true, "Page": true, "Article": true, "Question": true}

// Emoji is a custom emoji (an Emoji tag): Name is ":shortcode:".
type Emoji struct {
	Name      string
	URL       string
	MediaType string
}

// RemoteObject is a post-like object read from a peer. Content is the
// peer's HTML as sent: sanitise it before showing it.
type RemoteObject struct {
	ID           string
	Type         string
	AttributedTo string
	Name         string // title (Lemmy Page, Article)
	Content      string // HTML; from content, contentMap or Misskey's _misskey_content
	Summary      string // content warning
	Language     string // the contentMap key, if any
	Sensitive    bool
	URL          string
	InReplyTo    string
	Context      string // FEP-7888 context (or ostatus conversation)
	Replies      string // the replies collection's IRI
	Audience     string // Lemmy's community
	Quote        string // Misskey's _misskey_quote / quoteUrl
	To, CC       []string
	Tags         []Tag
	Emojis       []Emoji
	Attachments  []Attachment
	Published    time.Time
	Updated      time.Time
}

// Addressed lists everyone the object is addressed to: to, cc and audience.
func (o *RemoteObject) Addressed() []string {
	out := append(append([]string{}, o.To...), o.CC...)
	if o.Audience != "" {
		out = append(out, o.Audience)
	}
	return out
}

// DecodeRemoteObject reads a post-like object from a map produced by
// DecodeActivity or DecodeObject (so limits and NUL stripping already
// applied). It requires an id, a type in PostTypes and an attributedTo.
// It proves nothing about origin: a caller must check that the id and
// attributedTo are on the origin of whoever vouched for the object, and
// fetch it from its origin otherwise.
func DecodeRemoteObject(m map[string]any) (*RemoteObject, error) {
	typ, err := singleType(m["type"])
	if err != nil {
		return nil, err
	}
	if !PostTypes[typ] {
		return nil, fmt.Errorf("%w: %s is not a post", ErrMalformed, typ)
	}
	id, err := optionalID(m, "object")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("%w: object without id", ErrMalformed)
	}
	o := &RemoteObject{ID: id, Type: typ, Name: str(m, "name"), Summary: str(m, "summary"),
		Sensitive: boolean(m["sensitive"]), URL: linkURL(m["url"]), InReplyTo: optIRI(m, "inReplyTo"),
		Replies: optIRI(m, "replies")}
	o.AttributedTo = attributedPerson(m["attributedTo"])
	if o.AttributedTo == "" {
		return nil, fmt.Errorf("%w: object %s has no attributedTo", ErrMalformed, id)
	}
	o.Context = optIRI(m, "context")
	if o.Context == "" {
		o.Context = optIRI(m, "conversation")
	}
	o.Audience = optIRI(m, "audience")
	for _, k := range []string{"_misskey_quote", "quoteUrl", "quoteUri", "quote"} {
		if q := optIRI(m, k); q != "" {
			o.Quote = q
			break
		}
	}
	if o.To, err = audience(m, "to"); err != nil {
		return nil, err
	}
	if o.CC, err = audience(m, "cc"); err != nil {
		return nil, err
	}
	o.Content, o.Language = content(m)
	o.Published = timeOf(m["published"])
	o.Updated = timeOf(m["updated"])
	for _, t := range AsList(m["tag"]) {
		tm, ok := t.(map[string]any)
		if !ok {
			continue
		}
		switch str(tm, "type") {
		case "Mention", "Hashtag":
			o.Tags = append(o.Tags, Tag{Type: str(tm, "type"), Href: str(tm, "href"), Name: str(tm, "name")})
		case "Emoji":
			u, mt, _ := image(tm["icon"])
			if name := str(tm, "name"); name != "" && u != "" {
				o.Emojis = append(o.Emojis, Emoji{Name: name, URL: u, MediaType: mt})
			}
		}
	}
	for _, a := range AsList(m["attachment"]) {
		am, ok := a.(map[string]any)
		if !ok {
			continue
		}
		if u := linkURL(am["url"]); u != "" {
			o.Attachments = append(o.Attachments, Attachment{Type: str(am, "type"), MediaType: str(am, "mediaType"),
				URL: u, Name: str(am, "name")})
		}
	}
	if typ == "Page" || typ == "Article" {
		// A Lemmy link post carries its link as an attachment of type Link.
		for _, a := range AsList(m["attachment"]) {
			if am, ok := a.(map[string]any); ok && str(am, "type") == "Link" && str(am, "href") != "" {
				o.Attachments = append(o.Attachments, Attachment{Type: "Link", URL: str(am, "href")})
			}
		}
	}
	return o, nil
}

// content picks the HTML: content, else the first contentMap entry (by
// key, so the choice is stable), else Misskey's MFM source as text.
func content(m map[string]any) (html, lang string) {
	html = str(m, "content")
	if cm, ok := m["contentMap"].(map[string]any); ok && len(cm) > 0 {
		keys := make([]string, 0, len(cm))
		for k := range cm {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok := cm[k].(string); ok && (html == "" || v == html) {
				if html == "" {
					html = v
				}
				lang = k
				break
			}
		}
	}
	if html == "" {
		if mk := str(m, "_misskey_content"); mk != "" {
			html = "<p>" + strings.ReplaceAll(escapeText(mk), "\n", "<br>") + "</p>"
		} else if src, ok := m["source"].(map[string]any); ok {
			if s := str(src, "content"); s != "" {
				html = "<p>" + strings.ReplaceAll(escapeText(s), "\n", "<br>") + "</p>"
			}
		}
	}
	return html, lang
}

func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// attributedPerson reduces attributedTo to one actor IRI: a string, an
// object with an id, or the first non-Group entry of an array (PeerTube
// lists the channel Group next to the Person).
func attributedPerson(v any) string {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if em, ok := e.(map[string]any); ok && str(em, "type") == "Group" {
				continue
			}
			if s, ok := refIRI(e); ok {
				if _, err := ParseIRI(s); err == nil {
					return s
				}
			}
		}
		return ""
	}
	return firstIRI(v)
}

// AsList reads a JSON-LD value that may be absent, a single item or an
// array as a list.
func AsList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

func timeOf(v any) time.Time {
	s, _ := v.(string)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
