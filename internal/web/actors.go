package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/store"
)

func (s *Server) instanceActor(c echo.Context) error {
	if !wantsAS(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return asJSON(c, http.StatusOK, s.fed.InstanceActorJSON())
}

// page is the data every page template gets.
type page struct {
	Lang, Title, InstanceName, Organisation, OrganisationURL, Description, AlternateAS string
	Staff                                                                              *staffNav // set on staff pages
}

func (s *Server) page(title, alt string) page {
	in := s.opt.Instance
	return page{Lang: "sv", Title: title, InstanceName: in.Name, Organisation: in.Organisation,
		OrganisationURL: in.OrganisationURL, Description: in.Description, AlternateAS: alt}
}

type postView struct {
	URL, Summary, Language string
	Content                template.HTML
	Published              time.Time
	Edited                 bool
}

func (s *Server) postView(g *store.Group, p *store.Post) postView {
	return postView{URL: s.u.Post(g.Slug, p.PublicID), Summary: p.Summary, Language: p.Language,
		// ContentHTML was sanitised with the allow-list when it was stored.
		Content: template.HTML(p.ContentHTML), Published: p.PublishedAt, Edited: p.EditedAt != nil}
}

type groupPage struct {
	page
	Group     *store.Group
	Handle    string
	Followers int64
	Posts     []postView
	Older     string
}

func (s *Server) group(c echo.Context) error {
	ctx := c.Request().Context()
	if wantsAS(c.Request()) {
		body, err := s.fed.GroupActorJSON(ctx, c.Param("slug"))
		if err != nil {
			return err
		}
		return asJSON(c, http.StatusOK, body)
	}
	g, err := s.fed.Group(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	version := s.fed.ContentVersion()
	if before == 0 {
		if body, ok := s.pages.get(g.Slug, version); ok {
			return s.html(c, http.StatusOK, body)
		}
	}
	const perPage = 20
	posts, err := s.st.ListPosts(ctx, g.ID, before, perPage)
	if err != nil {
		return err
	}
	n, err := s.fed.FollowerCount(ctx, g.ID)
	if err != nil {
		return err
	}
	v := groupPage{page: s.page(g.Name, s.u.Group(g.Slug)), Group: g, Handle: "@" + g.Slug + "@" + s.u.Domain, Followers: n}
	for i := range posts {
		v.Posts = append(v.Posts, s.postView(g, &posts[i]))
	}
	if len(posts) == perPage {
		v.Older = s.u.Group(g.Slug) + "?before=" + strconv.FormatInt(posts[len(posts)-1].ID, 10)
	}
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, "group.html", v); err != nil {
		return err
	}
	if before == 0 {
		s.pages.put(g.Slug, version, buf.Bytes())
	}
	return s.html(c, http.StatusOK, buf.Bytes())
}

type indexPage struct {
	page
	Groups []groupItem
}

type groupItem struct{ URL, Name, Handle, Purpose string }

func (s *Server) index(c echo.Context) error {
	gs, err := s.st.ListGroups(c.Request().Context())
	if err != nil {
		return err
	}
	v := indexPage{page: s.page(s.opt.Instance.Name, "")}
	for _, g := range gs {
		v.Groups = append(v.Groups, groupItem{URL: s.u.Group(g.Slug), Name: g.Name, Handle: "@" + g.Slug + "@" + s.u.Domain, Purpose: g.Purpose})
	}
	return s.render(c, http.StatusOK, "index.html", v)
}
