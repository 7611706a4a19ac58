package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

const pageSize = 20

func (s *Server) groupFor(c echo.Context) (*store.Group, error) {
	return s.fed.Group(c.Request().Context(), c.Param("slug"))
}

func (s *Server) outbox(c echo.Context) error {
	g, err := s.groupFor(c)
	if err != nil {
		return err
	}
	n, err := s.st.CountOutbox(c.Request().Context(), g.ID)
	if err != nil {
		return err
	}
	body, err := activitypub.EncodeCollection(&activitypub.OrderedCollection{
		ID: s.u.GroupOutbox(g.Slug), TotalItems: int(n), First: s.u.OutboxPage(g.Slug, 0)})
	if err != nil {
		return err
	}
	return asJSON(c, http.StatusOK, body)
}

// outboxPage serves one page; the cursor is the id below which to list
// (0 = newest). Cursors are path segments: ids carry no query string.
func (s *Server) outboxPage(c echo.Context) error {
	g, err := s.groupFor(c)
	if err != nil {
		return err
	}
	before, err := strconv.ParseInt(c.Param("cursor"), 10, 64)
	if err != nil || before < 0 {
		return echo.NewHTTPError(http.StatusNotFound, "no such page")
	}
	ctx := c.Request().Context()
	acts, err := s.st.OutboxPage(ctx, g.ID, before, pageSize)
	if err != nil {
		return err
	}
	n, err := s.st.CountOutbox(ctx, g.ID)
	if err != nil {
		return err
	}
	p := &activitypub.OrderedCollectionPage{ID: s.u.OutboxPage(g.Slug, before), PartOf: s.u.GroupOutbox(g.Slug), TotalItems: int(n),
		Items: []json.RawMessage{}, ItemsEncodedHere: true}
	for _, a := range acts {
		p.Items = append(p.Items, json.RawMessage(a.JSON))
	}
	if len(acts) == pageSize {
		p.Next = s.u.OutboxPage(g.Slug, acts[len(acts)-1].ID)
	}
	body, err := activitypub.EncodeCollectionPage(p)
	if err != nil {
		return err
	}
	return asJSON(c, http.StatusOK, body)
}

// followers exposes the count only: who follows a city group is personal
// data about residents, so the list is not published.
func (s *Server) followers(c echo.Context) error {
	g, err := s.groupFor(c)
	if err != nil {
		return err
	}
	n, err := s.fed.FollowerCount(c.Request().Context(), g.ID)
	if err != nil {
		return err
	}
	body, err := activitypub.EncodeCollection(&activitypub.OrderedCollection{ID: s.u.Followers(g.Slug), TotalItems: int(n)})
	if err != nil {
		return err
	}
	return asJSON(c, http.StatusOK, body)
}

func (s *Server) following(c echo.Context) error {
	g, err := s.groupFor(c)
	if err != nil {
		return err
	}
	body, err := activitypub.EncodeCollection(&activitypub.OrderedCollection{ID: s.u.Following(g.Slug), InlineItems: true})
	if err != nil {
		return err
	}
	return asJSON(c, http.StatusOK, body)
}

// moderators is the Lemmy-style collection of the group's moderators. Staff
// act as the group itself and have no actors of their own, so it is empty.
func (s *Server) moderators(c echo.Context) error {
	g, err := s.groupFor(c)
	if err != nil {
		return err
	}
	body, err := activitypub.EncodeCollection(&activitypub.OrderedCollection{ID: s.u.Moderators(g.Slug), InlineItems: true})
	if err != nil {
		return err
	}
	return asJSON(c, http.StatusOK, body)
}

// featured lists pinned posts as embedded Notes (Mastodon reads them so).
func (s *Server) featured(c echo.Context) error {
	g, err := s.groupFor(c)
	if err != nil {
		return err
	}
	posts, err := s.st.PinnedPosts(c.Request().Context(), g.ID)
	if err != nil {
		return err
	}
	col := &activitypub.OrderedCollection{ID: s.u.Featured(g.Slug), TotalItems: len(posts), InlineItems: true}
	for i := range posts {
		b, err := activitypub.EncodeNote(s.fed.NoteFor(g, &posts[i]))
		if err != nil {
			return err
		}
		col.Items = append(col.Items, b)
	}
	body, err := activitypub.EncodeCollection(col)
	if err != nil {
		return err
	}
	return asJSON(c, http.StatusOK, body)
}
