package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/store"
)

type postPage struct {
	page
	GroupName, GroupURL string
	Post                postView
	Thread              thread
	Mode                string
	Likes, Boosts       int64
}

// post serves a Note (or, once deleted, a Tombstone with 410) to
// ActivityPub clients and a permalink page to browsers.
func (s *Server) post(c echo.Context) error {
	ctx := c.Request().Context()
	g, err := s.groupFor(c)
	if err != nil {
		return err
	}
	p, err := s.st.PostByPublicID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if p.GroupID != g.ID {
		return store.ErrNotFound
	}
	as := wantsAS(c.Request())
	if p.DeletedAt != nil {
		if as {
			body, err := activitypub.EncodeTombstone(s.fed.Tombstone(g, p))
			if err != nil {
				return err
			}
			return asJSON(c, http.StatusGone, body)
		}
		return s.render(c, http.StatusGone, "gone.html", s.page(c, s.tr(c).T("gone.title"), ""))
	}
	if as {
		body, err := activitypub.EncodeNote(s.fed.NoteFor(g, p))
		if err != nil {
			return err
		}
		return asJSON(c, http.StatusOK, body)
	}
	postURL := s.u.Post(g.Slug, p.PublicID)
	l := s.tr(c)
	v := postPage{page: s.page(c, l.T("post.heading", "Group", g.Name), postURL), GroupName: g.Name, GroupURL: s.u.Group(g.Slug), Post: s.postView(c, g, p)}
	v.Post.Content = template.HTML(shiftHeadings(p.ContentHTML, 1)) // under the page's h1 only
	if v.Thread, err = s.threadViews(c, g, postURL); err != nil {
		return err
	}
	v.Mode = modeText(l, g.DiscussionMode)
	counts, err := s.st.CountReactions(ctx, []string{postURL})
	if err != nil {
		return err
	}
	v.Likes, v.Boosts = counts[postURL].Likes, counts[postURL].Boosts
	// The page's own text is in the interface language; the post carries its own.
	v.OG = &openGraph{Type: "article", SiteName: v.InstanceName, Title: l.T("post.heading", "Group", g.Name), Description: postDescription(l, p),
		URL: postURL, Image: s.u.Base + groupIconPath, ImageAlt: l.T("group.icon_alt", "Name", g.Name), Published: p.PublishedAt.UTC().Format(time.RFC3339)}
	return s.render(c, http.StatusOK, "post.html", v)
}

// activity serves an activity we published, exactly as sent.
func (s *Server) activity(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.st.ActivityByIRI(ctx, s.u.Activity(c.Param("id")))
	if err != nil {
		return err
	}
	if aud := addressees([]byte(a.JSON)); !aud.public {
		// Direct messages to authors, Blocks, Flags, Accepts: only an
		// addressee may read them, by a signed GET, as Mastodon does; to
		// anyone else the activity does not exist.
		owner, err := s.fed.VerifyFetcher(ctx, c.Request())
		if err != nil || !aud.actors[owner] {
			return store.ErrNotFound
		}
		c.Response().Header().Set("Cache-Control", "private, no-store")
	}
	// An Announce of a resident's note that is no longer public (removed
	// by a moderator or on the author's request) is gone.
	if a.Type == "Announce" {
		n, kind, err := s.st.NoteAnnounceByActivity(ctx, a.IRI)
		if err == nil && kind != store.AnnounceDelete && (n.State != store.NoteVisible || n.DeletedAt != nil) {
			body, err := activitypub.EncodeTombstone(&activitypub.Tombstone{ID: a.IRI, FormerType: "Announce", Deleted: n.UpdatedAt})
			if err != nil {
				return err
			}
			return asJSON(c, http.StatusGone, body)
		}
	}
	return asJSON(c, http.StatusOK, []byte(a.JSON))
}

// audience is who an activity is addressed to.
type audience struct {
	public bool
	actors map[string]bool
}

// addressees reads to, cc, bto, bcc and audience of an activity (and of
// its embedded object, which Create and Announce carry). Anything that
// cannot be read is treated as not public.
func addressees(raw []byte) audience {
	a := audience{actors: map[string]bool{}}
	var v map[string]any
	if json.Unmarshal(raw, &v) != nil {
		return a
	}
	read := func(m map[string]any) {
		for _, k := range []string{"to", "cc", "bto", "bcc", "audience"} {
			for _, x := range activitypub.AsList(m[k]) {
				id, _ := x.(string)
				if o, ok := x.(map[string]any); ok {
					id, _ = o["id"].(string)
				}
				switch id {
				case "":
				case activitypub.PublicIRI, "as:Public", "Public":
					a.public = true
				default:
					a.actors[id] = true
				}
			}
		}
	}
	read(v)
	if o, ok := v["object"].(map[string]any); ok {
		read(o)
	}
	return a
}

// postDescription is the text a link preview shows: the content warning
// alone when there is one, so that previews respect it.
func postDescription(l *i18n.Localizer, p *store.Post) string {
	if p.Summary != "" {
		return l.T("post.content_warning") + ": " + p.Summary
	}
	return clip(plainText(p.ContentHTML), 200)
}

// postThread serves a post's replies collection (direct replies) and its
// context collection (the whole conversation, the post first).
func (s *Server) postThread(context bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		g, err := s.groupFor(c)
		if err != nil {
			return err
		}
		p, err := s.st.PostByPublicID(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		if p.GroupID != g.ID || p.DeletedAt != nil {
			return store.ErrNotFound
		}
		root := s.u.Post(g.Slug, p.PublicID)
		id := s.u.PostReplies(g.Slug, p.PublicID)
		if context {
			id = s.u.PostContext(g.Slug, p.PublicID)
		}
		body, err := s.threadCollection(ctx, id, root, context, !context)
		if err != nil {
			return err
		}
		return asJSON(c, http.StatusOK, body)
	}
}
