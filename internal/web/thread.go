package web

import (
	"context"
	"net/http"

	"encoding/json"
	"github.com/labstack/echo/v4"
	"html/template"
	"time"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/store"
)

// noteView is a resident's post as the public pages show it.
type noteView struct {
	Anchor      string // fragment id on the page
	URL         string // the resident's own permalink (or its id)
	Author      string // "@user@host"
	AuthorURL   string
	Summary     string
	Content     template.HTML
	Language    string
	Published   time.Time
	Edited      bool
	ReplyTo     string // anchor of the note it answers ("" for the post)
	ReplyToName string
	Attachments []store.NoteAttachment
	Depth       int
}

// maxThreadShown bounds the notes one page shows.
const maxThreadShown = 500

// threadViews loads a thread's visible notes, oldest first, each with its
// author's handle and the note it answers.
func (s *Server) threadViews(c echo.Context, g *store.Group, root string) ([]noteView, error) {
	ctx := c.Request().Context()
	ns, err := s.st.ThreadNotes(ctx, root, []string{store.NoteVisible}, maxThreadShown)
	if err != nil {
		return nil, err
	}
	rules, err := s.st.PublicViewRules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]noteView, 0, len(ns))
	byIRI := map[string]int{}
	handles := map[string]string{}
	for _, n := range ns {
		rule, erased := rules[n.AuthorIRI]
		if erased && rule.Removed {
			continue // the state says so too; this guards notes in flight
		}
		h, ok := handles[n.AuthorIRI]
		if !ok {
			h = n.AuthorIRI
			if erased {
				h = s.tr(c).T("thread.pseudonym", "Code", rule.Pseudonym)
			} else if a, err := s.st.RemoteActorByIRI(ctx, n.AuthorIRI); err == nil && a.PreferredUsername != "" {
				h = "@" + a.PreferredUsername + "@" + a.Host
			}
			handles[n.AuthorIRI] = h
		}
		// A pseudonymised author's note links neither to the account nor
		// to the note on its server (both name the account).
		url, authorURL := firstNonEmptyStr(n.URL, n.IRI), n.AuthorIRI
		if erased {
			url, authorURL = "", ""
		}
		v := noteView{Anchor: "svar-" + itoa64(n.ID), URL: url, Author: h, AuthorURL: authorURL,
			Summary: n.Summary, Content: template.HTML(shiftHeadings(n.ContentHTML, 2)), Language: n.Language,
			Published: n.PublishedAt, Edited: n.EditedAt != nil, Depth: n.Depth}
		_ = json.Unmarshal([]byte(n.Attachments), &v.Attachments)
		if i, ok := byIRI[n.InReplyTo]; ok {
			v.ReplyTo, v.ReplyToName = out[i].Anchor, out[i].Author
		}
		byIRI[n.IRI] = len(out)
		out = append(out, v)
	}
	// Staff replies as the group, placed by time under what they answer.
	iris := []string{root}
	for _, n := range ns {
		iris = append(iris, n.IRI)
	}
	ps, err := s.st.PostsReplyingTo(ctx, iris)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.GroupID != g.ID {
			continue
		}
		v := noteView{Anchor: "grupp-" + p.PublicID, URL: s.u.Post(g.Slug, p.PublicID), Author: s.tr(c).T("thread.group_author", "Group", g.Name),
			AuthorURL: s.u.Group(g.Slug), Summary: p.Summary, Content: template.HTML(shiftHeadings(p.ContentHTML, 2)),
			Language: p.Language, Published: p.PublishedAt, Edited: p.EditedAt != nil}
		if i, ok := byIRI[p.InReplyTo]; ok {
			v.ReplyTo, v.ReplyToName = out[i].Anchor, out[i].Author
		}
		at := len(out)
		for i := range out {
			if out[i].Published.After(p.PublishedAt) {
				at = i
				break
			}
		}
		out = append(out[:at], append([]noteView{v}, out[at:]...)...)
		for k, i := range byIRI {
			if i >= at {
				byIRI[k] = i + 1
			}
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
