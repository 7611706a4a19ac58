package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

type postPage struct {
	page
	GroupName, GroupURL string
	Post                postView
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
		return s.render(c, http.StatusGone, "gone.html", s.page("Borttaget", ""))
	}
	if as {
		body, err := activitypub.EncodeNote(s.fed.NoteFor(g, p))
		if err != nil {
			return err
		}
		return asJSON(c, http.StatusOK, body)
	}
	v := postPage{page: s.page(g.Name, s.u.Post(g.Slug, p.PublicID)), GroupName: g.Name, GroupURL: s.u.Group(g.Slug), Post: s.postView(g, p)}
	v.Lang = p.Language
	return s.render(c, http.StatusOK, "post.html", v)
}

// activity serves an activity we published, exactly as sent.
func (s *Server) activity(c echo.Context) error {
	a, err := s.st.ActivityByIRI(c.Request().Context(), s.u.Activity(c.Param("id")))
	if err != nil {
		return err
	}
	return asJSON(c, http.StatusOK, []byte(a.JSON))
}
