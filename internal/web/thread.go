package web

import (
	"context"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/store"
)

// noteView is a resident's post (or a staff reply as the group) as the
// public pages show it, with the replies nested under it.
type noteView struct {
	Anchor      string // fragment id on the page
	URL         string // the resident's own permalink (or its id)
	Author      string // "@user@host"
	AuthorURL   string
	Summary     string
	Content     template.HTML
	Language    string
	UILang      string // the page's language, for the metadata line
	Label       string // accessible name: who wrote it, and what it answers
	Published   time.Time
	Edited      bool
	Sensitive   bool
	ReplyTo     string // anchor of the note it answers ("" for the post)
	ReplyToName string
	// ShowReplyTo: the note it answers is not the one it is nested under
	// (beyond the depth cap), so the page says which it is.
	ShowReplyTo bool
	Attachments []attachmentView
	Images      []attachmentView
	// Removed: hidden, held or deleted; only a placeholder is shown, and
	// only because replies to it are visible.
	Removed bool
	Replies []*noteView

	parent *noteView
	level  int
	keep   bool
	iri    string
	order  int
}

// attachmentView is one attachment of a resident's note: an image through
// the media proxy (Proxy set), or a link.
type attachmentView struct {
	URL, Proxy, Name, Alt string
}

// maxThreadShown bounds the notes one page shows.
const maxThreadShown = 500

// maxThreadNesting is the deepest level shown nested; deeper replies
// continue flat at this level, each saying what it answers.
const maxThreadNesting = 5

// thread is a post's conversation as the page shows it.
type thread struct {
	Replies []*noteView // top-level replies, each with its own nested
	Count   int         // visible notes in all
}

// threadViews loads a thread and nests each note under the one it
// answers, oldest first at every level. Notes not shown (held, hidden,
// deleted) appear only as placeholders, and only when visible replies hang
// under them.
func (s *Server) threadViews(c echo.Context, g *store.Group, root string) (thread, error) {
	ctx := c.Request().Context()
	l := s.tr(c)
	ns, err := s.st.ThreadAll(ctx, root, maxThreadShown)
	if err != nil {
		return thread{}, err
	}
	noMedia, err := s.noMediaHosts(ctx)
	if err != nil {
		return thread{}, err
	}
	// Authors whose erasure request was granted (PRV-5): removed ones'
	// notes are not visible (placeholders at most); pseudonymised ones
	// are shown under their pseudonym.
	rules, err := s.st.PublicViewRules(ctx)
	if err != nil {
		return thread{}, err
	}
	var all []*noteView
	byIRI := map[string]*noteView{}
	parentIRI := map[*noteView]string{}
	handles := map[string]string{}
	for _, n := range ns {
		v := &noteView{Anchor: "svar-" + itoa64(n.ID), UILang: l.Lang, Published: n.PublishedAt, iri: n.IRI, order: len(all)}
		rule, erased := rules[n.AuthorIRI]
		if n.State != store.NoteVisible || n.DeletedAt != nil || rule.Removed {
			v.Removed, v.Author = true, l.T("thread.removed_name")
		} else {
			h, ok := handles[n.AuthorIRI]
			if !ok {
				h = n.AuthorIRI
				if erased {
					h = l.T("thread.pseudonym", "Code", rule.Pseudonym)
				} else if a, err := s.st.RemoteActorByIRI(ctx, n.AuthorIRI); err == nil && a.PreferredUsername != "" {
					h = "@" + a.PreferredUsername + "@" + a.Host
				}
				handles[n.AuthorIRI] = h
			}
			v.URL, v.Author, v.AuthorURL = firstNonEmptyStr(n.URL, n.IRI), h, n.AuthorIRI
			if erased {
				// A pseudonymised author's note links neither to the
				// account nor to the note on its server (both name it).
				v.URL, v.AuthorURL = "", ""
			}
			v.Summary, v.Content, v.Language = n.Summary, template.HTML(shiftHeadings(n.ContentHTML, 2)), n.Language
			v.Edited, v.Sensitive, v.keep = n.EditedAt != nil, n.Sensitive, true
			var as []store.NoteAttachment
			_ = json.Unmarshal([]byte(n.Attachments), &as)
			v.Images, v.Attachments = s.attachmentViews(as, noMedia[strings.ToLower(n.AuthorHost)])
		}
		byIRI[n.IRI] = v
		parentIRI[v] = n.InReplyTo
		all = append(all, v)
	}
	// Staff replies as the group, under what they answer.
	iris := []string{root}
	for _, n := range ns {
		if n.State == store.NoteVisible && n.DeletedAt == nil {
			iris = append(iris, n.IRI)
		}
	}
	ps, err := s.st.PostsReplyingTo(ctx, iris)
	if err != nil {
		return thread{}, err
	}
	for _, p := range ps {
		if p.GroupID != g.ID {
			continue
		}
		u := s.u.Post(g.Slug, p.PublicID)
		v := &noteView{Anchor: "grupp-" + p.PublicID, URL: u, Author: l.T("thread.group_author", "Group", g.Name),
			AuthorURL: s.u.Group(g.Slug), Summary: p.Summary, Content: template.HTML(shiftHeadings(p.ContentHTML, 2)),
			Language: p.Language, UILang: l.Lang, Published: p.PublishedAt, Edited: p.EditedAt != nil, keep: true, iri: u, order: len(all)}
		byIRI[u] = v
		parentIRI[v] = p.InReplyTo
		all = append(all, v)
	}
	for _, v := range all {
		if p := byIRI[parentIRI[v]]; p != nil && p != v {
			v.parent = p
		}
	}
	// Levels (1: answers the post); a cycle (a note that claims to answer
	// its own reply) is cut where it closes.
	var level func(v *noteView, seen int) int
	level = func(v *noteView, seen int) int {
		if v.level > 0 {
			return v.level
		}
		if v.parent == nil || seen > len(all) {
			v.parent, v.level = nil, 1
			return 1
		}
		v.level = level(v.parent, seen+1) + 1
		return v.level
	}
	for _, v := range all {
		level(v, 0)
	}
	// A placeholder stays only when something visible hangs under it.
	for _, v := range all {
		if v.keep {
			for p := v.parent; p != nil && !p.keep; p = p.parent {
				p.keep = true
			}
		}
	}
	var out thread
	for _, v := range all {
		if !v.keep {
			continue
		}
		if !v.Removed {
			out.Count++
		}
		if v.parent == nil {
			out.Replies = append(out.Replies, v)
			v.Label = l.T("thread.label", "Author", v.Author)
			continue
		}
		v.ReplyTo, v.ReplyToName = v.parent.Anchor, v.parent.Author
		v.Label = l.T("thread.label_reply", "Author", v.Author, "To", v.parent.Author)
		home := v.parent
		for home.level >= maxThreadNesting {
			home = home.parent
		}
		v.ShowReplyTo = home != v.parent
		home.Replies = append(home.Replies, v)
	}
	sortNotes(out.Replies)
	for _, v := range all {
		sortNotes(v.Replies)
	}
	return out, nil
}

// sortNotes orders replies by publication time; notes published at the
// same moment keep the order they were loaded in (stable, by id).
func sortNotes(vs []*noteView) {
	sort.SliceStable(vs, func(i, j int) bool {
		if !vs[i].Published.Equal(vs[j].Published) {
			return vs[i].Published.Before(vs[j].Published)
		}
		return vs[i].order < vs[j].order
	})
}

// proxiedImageTypes are the declared types of attachments shown as
// images. The proxy checks the bytes themselves (a "PNG" that is an SVG
// is refused there), so the declared type only decides what is tried.
var proxiedImageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "image/gif": true}

// attachmentViews splits a note's attachments into images (shown through
// the media proxy, with the author's alt text) and links. noMedia: the
// author's server is under the "no media" domain policy, links only.
func (s *Server) attachmentViews(as []store.NoteAttachment, noMedia bool) (images, links []attachmentView) {
	for _, a := range as {
		v := attachmentView{URL: a.URL, Name: a.Name, Alt: a.Name}
		mt := strings.ToLower(strings.TrimSpace(a.MediaType))
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = strings.TrimSpace(mt[:i])
		}
		if mt == "" {
			if u, err := url.Parse(a.URL); err == nil {
				mt = mime.TypeByExtension(strings.ToLower(path.Ext(u.Path)))
			}
		}
		if !noMedia && proxiedImageTypes[mt] {
			if v.Proxy = s.fed.MediaURL(a.URL); v.Proxy != "" {
				images = append(images, v)
				continue
			}
		}
		links = append(links, v)
	}
	return images, links
}

// noMediaHosts lists the remote servers whose media are not shown.
func (s *Server) noMediaHosts(ctx context.Context) (map[string]bool, error) {
	ps, err := s.st.DomainPolicies(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, p := range ps {
		if p.Policy == store.DomainNoMedia {
			out[strings.ToLower(p.Host)] = true
		}
	}
	return out, nil
}

func firstNonEmptyStr(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func itoa64(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// modeText is how the public pages describe a group's discussion mode.
func modeText(l *i18n.Localizer, mode string) string {
	switch mode {
	case store.ModeModerated:
		return l.T("thread.mode.moderated")
	case store.ModeOpen:
		return l.T("thread.mode.open")
	}
	return l.T("thread.mode.announcements")
}

// threadCollection renders a post's replies or conversation as an
// ActivityPub OrderedCollection of ids (FEP-7888 context, FEP-f228).
func (s *Server) threadCollection(ctx context.Context, id, root string, withRoot, directOnly bool) ([]byte, error) {
	var ns []store.RemoteNote
	var err error
	if directOnly {
		ns, err = s.st.RepliesTo(ctx, root, []string{store.NoteVisible}, maxThreadShown)
	} else {
		ns, err = s.st.ThreadNotes(ctx, root, []string{store.NoteVisible}, maxThreadShown)
	}
	if err != nil {
		return nil, err
	}
	// Notes of pseudonymised authors are left out: their ids name the
	// account on its own server.
	rules, err := s.st.PublicViewRules(ctx)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if withRoot {
		b, _ := json.Marshal(root)
		items = append(items, b)
	}
	for _, n := range ns {
		if _, erased := rules[n.AuthorIRI]; erased {
			continue
		}
		b, _ := json.Marshal(n.IRI)
		items = append(items, b)
	}
	return activitypub.EncodeCollection(&activitypub.OrderedCollection{ID: id, TotalItems: len(items), Items: items, InlineItems: true})
}

// mediaProxy serves a remote image torget put on a page (a signed proxy
// URL), so that readers' browsers never contact other servers.
func (s *Server) mediaProxy(c echo.Context) error {
	body, mt, ok, err := s.fed.ProxyMedia(c.Request().Context(), c.QueryParam("url"), c.QueryParam("sig"))
	if !ok {
		return echo.NewHTTPError(http.StatusForbidden, "not a proxied image")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusBadGateway, "image not available")
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, mt, body)
}
