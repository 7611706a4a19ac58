package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// A group's avatar and header (administrators, on the group's edit page):
// each is uploaded with its alt text, which is required, and federates as
// the Group actor's icon and image through an Update of the actor.

type groupImageView struct {
	Which, Legend, URL, Alt, Error string
	Width, Height                  int
}

func (s *Server) groupImageViews(c echo.Context, g *store.Group, which, msg string) []groupImageView {
	l := s.tr(c)
	out := []groupImageView{{Which: "avatar", Legend: l.T("staff.group_images.avatar"), Alt: g.AvatarAlt},
		{Which: "header", Legend: l.T("staff.group_images.header"), Alt: g.HeaderAlt}}
	for i, m := range []*store.Media{g.Avatar, g.Header} {
		if m != nil {
			out[i].URL, out[i].Width, out[i].Height = s.u.Media(m.SmallKey), m.SmallWidth, m.SmallHeight
		}
		if out[i].Which == which {
			out[i].Error = msg
		}
	}
	return out
}

func (s *Server) setGroupImage(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	which := c.Param("which")
	if which != "avatar" && which != "header" || s.opt.Media.Storage == nil {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	g, err := s.st.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	l := s.tr(c)
	fail := func(msg string) error {
		f := groupForm{Slug: g.Slug, Name: g.Name, Purpose: g.Purpose, Summary: g.Summary, Website: g.WebsiteURL,
			Language: g.Language, ManualApproval: g.ManualApproval}
		return s.render(c, http.StatusUnprocessableEntity, "staff_group_edit.html", editGroupPage{
			page: s.staffPage(c, l.T("staff.group_edit.heading", "Name", g.Name)),
			CSRF: csrfFor(sc.token), Domain: s.u.Domain, Group: g, Form: f, Error: l.T("staff.group_images.error.not_saved", "Reason", msg),
			Images: s.groupImageViews(c, g, which, msg), Uploads: true, MaxBytes: byteSize(s.opt.Media.Limits.MaxBytes)})
	}
	current := g.Avatar
	if which == "header" {
		current = g.Header
	}
	var ref *federation.MediaRef
	notice := l.T("staff.group_images.notice.removed")
	if c.FormValue("remove") == "" {
		alt := strings.TrimSpace(c.FormValue("alt"))
		if alt == "" {
			return fail(l.T("staff.compose.error.alt_missing"))
		}
		switch fh, ferr := c.FormFile("file"); {
		case ferr == nil && fh.Size > 0:
			m, msg, err := s.saveUpload(ctx, l, g, sc.user.ID, fh)
			if err != nil {
				return err
			}
			if msg != "" {
				return fail(msg)
			}
			ref = &federation.MediaRef{PublicID: m.PublicID, Alt: alt}
		case current != nil:
			ref = &federation.MediaRef{PublicID: current.PublicID, Alt: alt}
		default:
			return fail(l.T("staff.group_images.error.choose"))
		}
		notice = l.T("staff.group_images.notice.saved")
	}
	_, err = s.fed.SetGroupImage(ctx, g.Slug, which, ref)
	if errors.Is(err, federation.ErrInvalid) {
		return fail(err.Error())
	}
	if err != nil {
		return err
	}
	detail := which + " removed"
	if ref != nil {
		detail = which + " " + ref.PublicID
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_image", s.u.Group(g.Slug), detail); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice("/staff/groups/"+g.Slug+"/edit", notice))
}
