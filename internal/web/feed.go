package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/store"
)

// Feeds are written with encoding/xml rather than a feed library: it gives
// per-entry xml:lang in Atom and the channel language in RSS, escapes every
// text node, and adds no dependency.

const (
	feedItems = 20
	rssType   = "application/rss+xml; charset=utf-8"
	atomType  = "application/atom+xml; charset=utf-8"
)

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language,omitempty"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Generator     string    `xml:"generator"`
	Self          atomLink  `xml:"atom:link"`
	Image         rssImage  `xml:"image"`
	Items         []rssItem `xml:"item"`
}

type rssImage struct {
	URL   string `xml:"url"`
	Title string `xml:"title"`
	Link  string `xml:"link"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang      string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	ID        string      `xml:"id"`
	Title     atomText    `xml:"title"`
	Subtitle  atomText    `xml:"subtitle"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Icon      string      `xml:"icon"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomText struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri"`
}

type atomEntry struct {
	Lang      string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	ID        string   `xml:"id"`
	Title     atomText `xml:"title"`
	Link      atomLink `xml:"link"`
	Published string   `xml:"published"`
	Updated   string   `xml:"updated"`
	Content   atomText `xml:"content"`
}

// feedEntry is one post as both feeds show it.
type feedEntry struct {
	URL, Title, HTML, Lang string
	Published, Updated     time.Time
}

func (s *Server) feedRSS(c echo.Context) error  { return s.feed(c, "rss") }
func (s *Server) feedAtom(c echo.Context) error { return s.feed(c, "atom") }

// feed serves a group's latest live posts as RSS 2.0 or Atom, for readers
// without a fediverse account.
func (s *Server) feed(c echo.Context, kind string) error {
	ctx := c.Request().Context()
	g, err := s.fed.Group(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	key := kind + ":" + g.Slug
	version := s.fed.ContentVersion()
	body, ok := s.pages.get(key, version)
	if !ok {
		posts, err := s.st.ListPosts(ctx, g.ID, 0, feedItems)
		if err != nil {
			return err
		}
		entries := make([]feedEntry, len(posts))
		for i := range posts {
			entries[i] = s.feedEntry(g, &posts[i])
		}
		updated := g.UpdatedAt
		for _, e := range entries {
			if e.Updated.After(updated) {
				updated = e.Updated
			}
		}
		if kind == "rss" {
			body, err = s.rss(g, entries, updated)
		} else {
			body, err = s.atom(g, entries, updated)
		}
		if err != nil {
			return err
		}
		s.pages.put(key, version, body)
	}
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", etag)
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	ct := rssType
	if kind == "atom" {
		ct = atomType
	}
	return c.Blob(http.StatusOK, ct, body)
}

func (s *Server) feedEntry(g *store.Group, p *store.Post) feedEntry {
	// ContentHTML was sanitised when stored; sanitise again, as for any
	// HTML we hand to other software.
	content := s.policy.Sanitize(p.ContentHTML)
	title := clip(firstLine(plainText(content)), 80)
	l := s.i18n.Localizer(g.Language) // a feed speaks its group's language
	if p.Summary != "" {
		cw := l.T("post.content_warning")
		title = cw + ": " + p.Summary
		content = "<p><strong>" + html.EscapeString(cw) + ":</strong> " + html.EscapeString(p.Summary) + "</p>\n" + content
	}
	for _, im := range s.imageViews(p) {
		content += fmt.Sprintf("\n<p><a href=\"%s\"><img src=\"%s\" alt=\"%s\" width=\"%d\" height=\"%d\"></a></p>",
			html.EscapeString(im.Large), html.EscapeString(im.Small), html.EscapeString(im.Alt), im.Width, im.Height)
	}
	if title == "" {
		title = l.T("post.heading", "Group", g.Name)
	}
	e := feedEntry{URL: s.u.Post(g.Slug, p.PublicID), Title: title, HTML: content, Lang: firstNonEmpty(p.Language, g.Language),
		Published: p.PublishedAt, Updated: p.PublishedAt}
	if p.EditedAt != nil {
		e.Updated = *p.EditedAt
	}
	return e
}

func (s *Server) rss(g *store.Group, entries []feedEntry, updated time.Time) ([]byte, error) {
	groupURL := s.u.Group(g.Slug)
	ch := rssChannel{Title: g.Name, Link: groupURL, Description: firstNonEmpty(g.Summary, g.Purpose), Language: g.Language,
		LastBuildDate: updated.UTC().Format(time.RFC1123Z), Generator: "torget",
		Self:  atomLink{Rel: "self", Type: "application/rss+xml", Href: groupURL + "/feed.rss"},
		Image: rssImage{URL: s.u.Base + groupIconPath, Title: g.Name, Link: groupURL}}
	for _, e := range entries {
		ch.Items = append(ch.Items, rssItem{Title: e.Title, Link: e.URL, GUID: rssGUID{IsPermaLink: "true", Value: e.URL},
			PubDate: e.Published.UTC().Format(time.RFC1123Z), Description: e.HTML})
	}
	return marshalXML(rssDoc{Version: "2.0", AtomNS: "http://www.w3.org/2005/Atom", Channel: ch})
}

func (s *Server) atom(g *store.Group, entries []feedEntry, updated time.Time) ([]byte, error) {
	groupURL := s.u.Group(g.Slug)
	f := atomFeed{Lang: g.Language, ID: groupURL + "/feed.atom", Title: atomText{Type: "text", Value: g.Name},
		Subtitle: atomText{Type: "text", Value: firstNonEmpty(g.Summary, g.Purpose)}, Updated: updated.UTC().Format(time.RFC3339),
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: groupURL + "/feed.atom"},
			{Rel: "alternate", Type: "text/html", Href: groupURL}},
		Author: atomPerson{Name: g.Name, URI: groupURL}, Icon: s.u.Base + groupIconPath, Generator: "torget"}
	for _, e := range entries {
		f.Entries = append(f.Entries, atomEntry{Lang: e.Lang, ID: e.URL, Title: atomText{Type: "text", Value: e.Title},
			Link:      atomLink{Rel: "alternate", Type: "text/html", Href: e.URL},
			Published: e.Published.UTC().Format(time.RFC3339), Updated: e.Updated.UTC().Format(time.RFC3339),
			Content: atomText{Type: "html", Value: e.HTML}})
	}
	return marshalXML(f)
}

func marshalXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
