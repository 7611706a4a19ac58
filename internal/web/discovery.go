package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/activitypub/nodeinfo"
	"github.com/torget/torget/activitypub/webfinger"
)

// webfinger answers acct: and actor-URL resources for groups and the
// instance actor (which must resolve too, or GoToSocial aborts fetches).
func (s *Server) webfinger(c echo.Context) error {
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	res, err := webfinger.ParseResource(c.QueryParam("resource"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "resource must be acct:user@host or an actor URL")
	}
	var user string
	switch {
	case res.IsAcct():
		if !strings.EqualFold(res.Host, s.u.Domain) {
			return echo.NewHTTPError(http.StatusNotFound, "not a local account")
		}
		user = res.User
	case res.URL == s.u.InstanceActor():
		user = s.u.Domain
	default:
		slug, ok := s.u.GroupSlug(res.URL)
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "not a local actor")
		}
		user = slug
	}
	var actorID, profile string
	if user == s.u.Domain {
		actorID, profile = s.u.InstanceActor(), s.u.Base+"/"
	} else {
		// Usernames match exactly (case-sensitive), as peers expect.
		g, err := s.fed.Group(c.Request().Context(), user)
		if err != nil {
			return echo.NewHTTPError(http.StatusNotFound, "no such group")
		}
		actorID, profile = s.u.Group(g.Slug), s.u.Group(g.Slug)
	}
	jrd := webfinger.JRD{
		Subject: "acct:" + user + "@" + s.u.Domain,
		Aliases: []string{actorID},
		Links: []webfinger.Link{
			{Rel: "self", Type: activitypub.ContentType, Href: actorID},
			{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: profile},
		},
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, webfinger.ContentType+"; charset=utf-8", mustJSON(jrd))
}

func (s *Server) hostMeta(c echo.Context) error {
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/xrd+xml; charset=utf-8", webfinger.HostMeta(s.u.Base))
}

func (s *Server) nodeinfoDiscovery(c echo.Context) error {
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.JSON(http.StatusOK, nodeinfo.Discovery(s.u.Base))
}

func (s *Server) nodeinfo(c echo.Context) error {
	v := c.Param("version")
	if v != nodeinfo.Version20 && v != nodeinfo.Version21 {
		return echo.NewHTTPError(http.StatusNotFound, "unknown NodeInfo version")
	}
	ctx := c.Request().Context()
	groups, err := s.st.CountGroups(ctx)
	if err != nil {
		return err
	}
	posts, err := s.st.CountPosts(ctx, 0)
	if err != nil {
		return err
	}
	in := s.opt.Instance
	doc := nodeinfo.New(v,
		nodeinfo.Software{Name: "torget", Version: s.opt.Version, Repository: "https://github.com/torget/torget", Homepage: "https://github.com/torget/torget"},
		nodeinfo.Usage{Users: nodeinfo.Users{Total: groups, ActiveMonth: groups, ActiveHalfyear: groups}, LocalPosts: posts},
		map[string]any{
			"nodeName":        in.Name,
			"nodeDescription": in.Description,
			"operator":        map[string]any{"name": in.Organisation, "url": in.OrganisationURL, "contact": in.ContactEmail},
			"software":        "torget: federated community groups for public-sector organisations",
		})
	doc.OpenRegistrations = false
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, nodeinfo.ProfileContentType(v), mustJSON(doc))
}
