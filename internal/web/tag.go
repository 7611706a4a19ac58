package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/store"
)

type taggedPost struct {
	postView
	GroupName, GroupURL string
}

type tagPage struct {
	page
	Tag   string
	Posts []taggedPost
}

// tag lists recent posts with a hashtag, the page our hashtag links open.
func (s *Server) tag(c echo.Context) error {
	ctx := c.Request().Context()
	tag := strings.ToLower(c.Param("tag"))
	if len(markup.Hashtags("#"+tag)) != 1 || markup.Hashtags("#" + tag)[0] != tag {
		return store.ErrNotFound
	}
	posts, err := s.st.PostsMentioningText(ctx, "#"+tag, 100)
	if err != nil {
		return err
	}
	v := tagPage{page: s.page(c, "#"+tag, ""), Tag: tag}
	groups := map[int64]*store.Group{}
	for i := range posts {
		p := &posts[i]
		match := false
		for _, h := range markup.Hashtags(p.Source) {
			match = match || h == tag
		}
		if !match {
			continue
		}
		g, ok := groups[p.GroupID]
		if !ok {
			if g, err = s.st.GroupByID(ctx, p.GroupID); err != nil {
				return err
			}
			groups[p.GroupID] = g
		}
		v.Posts = append(v.Posts, taggedPost{postView: s.postView(c, g, p), GroupName: g.Name, GroupURL: s.u.Group(g.Slug)})
		if len(v.Posts) == 20 {
			break
		}
	}
	return s.render(c, http.StatusOK, "tag.html", v)
}
