package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type homePage struct {
	page
	Groups []groupItem
	Follow followForm
}

type groupItem struct{ Slug, URL, Name, Handle, Purpose string }

// index is the instance home: the groups, how to follow them, and who runs
// the server.
func (s *Server) index(c echo.Context) error {
	gs, err := s.st.ListGroups(c.Request().Context())
	if err != nil {
		return err
	}
	v := homePage{page: s.page(c, "", "")}
	for _, g := range gs {
		v.Groups = append(v.Groups, groupItem{Slug: g.Slug, URL: s.u.Group(g.Slug), Name: g.Name, Handle: s.handle(g.Slug), Purpose: g.Purpose})
	}
	v.Follow = followForm{Groups: v.Groups}
	v.OG = &openGraph{Type: "website", SiteName: v.InstanceName, Title: v.InstanceName, Description: v.Description, URL: s.u.Base + "/", Image: s.u.Base + groupIconPath, ImageAlt: ""}
	allowFollowRedirect(c)
	return s.render(c, http.StatusOK, "index.html", v)
}

// handle is a group's fediverse address, "@slug@domain".
func (s *Server) handle(slug string) string { return "@" + slug + "@" + s.u.Domain }
