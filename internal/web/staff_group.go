package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// The staff page of a group: /staff/groups/:slug, its recent posts with
// their actions, and (for administrators) who may work in the group.

// publishableGroup loads the group named by the :slug parameter and
// refuses (403) staff who may not publish in it. Every handler under
// /staff/groups/:slug calls it: hiding buttons is not a check.
func (s *Server) publishableGroup(c echo.Context) (*store.Group, error) {
	g, err := s.st.GroupBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return nil, err
	}
	return g, s.mayPublish(c, g)
}

func (s *Server) mayPublish(c echo.Context, g *store.Group) error {
	ok, err := s.st.CanPublish(c.Request().Context(), staffFrom(c).user, g.ID)
	if err != nil {
		return err
	}
	if !ok {
		return echo.NewHTTPError(http.StatusForbidden, "forbidden")
	}
	return nil
}

// staffPost loads the post named by the :id parameter (its public id) and
// its group, and refuses staff who may not publish in that group.
func (s *Server) staffPost(c echo.Context) (*store.Post, *store.Group, error) {
	ctx := c.Request().Context()
	p, err := s.st.PostByPublicID(ctx, c.Param("id"))
	if err != nil {
		return nil, nil, err
	}
	g, err := s.st.GroupByID(ctx, p.GroupID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.mayPublish(c, g); err != nil {
		return nil, nil, err
	}
	if p.DeletedAt != nil {
		return nil, nil, echo.NewHTTPError(http.StatusGone, "the post was deleted")
	}
	return p, g, nil
}

func staffGroupPath(slug string) string { return "/staff/groups/" + slug }

// withNotice adds a notice for the next page to show.
func withNotice(path, notice string) string { return path + "?notice=" + url.QueryEscape(notice) }

type staffPostRow struct {
	ID, URL, Summary, Language string
	Content                    template.HTML
	Pinned, Edited             bool
	Published                  string
}

type staffMemberRow struct {
	UserID         int64
	Username, Role string
}

type staffUserOption struct {
	ID             int64
	Username, Role string
}

type staffGroupPage struct {
	page
	CSRF, Notice, Error string
	Group               *store.Group
	PublicURL, Compose  string
	Posts               []staffPostRow
	Admin               bool
	Members             []staffMemberRow
	Users               []staffUserOption
}

const staffPostsPerPage = 30

func (s *Server) staffGroup(c echo.Context) error {
	g, err := s.publishableGroup(c)
	if err != nil {
		return err
	}
	return s.renderStaffGroup(c, http.StatusOK, g, c.QueryParam("notice"), "")
}

func (s *Server) renderStaffGroup(c echo.Context, code int, g *store.Group, notice, msg string) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	posts, err := s.st.ListPosts(ctx, g.ID, 0, staffPostsPerPage)
	if err != nil {
		return err
	}
	v := staffGroupPage{page: s.staffPage(c, g.Name), CSRF: csrfFor(sc.token), Notice: notice, Error: msg, Group: g,
		PublicURL: s.u.Group(g.Slug), Compose: staffGroupPath(g.Slug) + "/compose", Admin: sc.user.Role == auth.RoleAdmin}
	for i := range posts {
		p := &posts[i]
		v.Posts = append(v.Posts, staffPostRow{ID: p.PublicID, URL: s.u.Post(g.Slug, p.PublicID), Summary: p.Summary, Language: p.Language,
			Content: template.HTML(shiftHeadings(p.ContentHTML, 2)), Pinned: p.PinnedAt != nil, Edited: p.EditedAt != nil,
			Published: p.PublishedAt.UTC().Format("2006-01-02 15:04 UTC")})
	}
	if v.Admin {
		ms, err := s.st.ListGroupStaff(ctx, g.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			v.Members = append(v.Members, staffMemberRow{UserID: m.UserID, Username: m.Username, Role: roleName(m.Role)})
		}
		us, err := s.st.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			if !u.Disabled && u.Role != auth.RoleAdmin {
				v.Users = append(v.Users, staffUserOption{ID: u.ID, Username: u.Username, Role: roleName(u.Role)})
			}
		}
	}
	return s.render(c, code, "staff_group.html", v)
}

// assignStaff makes an existing account editor or moderator of the group
// (administrators only; an administrator may do everything anyway).
func (s *Server) assignStaff(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	g, err := s.st.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if role != store.RoleEditor && role != store.RoleModerator {
		return s.renderStaffGroup(c, http.StatusUnprocessableEntity, g, "", "Välj rollen redaktör eller moderator.")
	}
	id, _ := strconv.ParseInt(c.FormValue("user"), 10, 64)
	u, err := s.st.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || u.Role == auth.RoleAdmin)) {
		return s.renderStaffGroup(c, http.StatusUnprocessableEntity, g, "", "Välj ett personalkonto som inte är administratör.")
	}
	if err != nil {
		return err
	}
	if err := s.st.AssignGroupStaff(ctx, g.ID, u.ID, role); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_staff_assign", u.Username, "group "+g.Slug+"; role "+role); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), u.Username+" är nu "+roleName(role)+" i gruppen."))
}

// unassignStaff ends an account's assignment to the group.
func (s *Server) unassignStaff(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	g, err := s.st.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.st.RemoveGroupStaff(ctx, g.ID, u.ID); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_staff_remove", u.Username, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), u.Username+" arbetar inte längre i gruppen."))
}

// Creating a group (administrators only).

type groupForm struct {
	Slug, Name, Purpose, Summary, Website, Language string
	ManualApproval                                  bool
}

type newGroupPage struct {
	page
	CSRF   string
	Form   groupForm
	Errors map[string]string
	Error  string
}

func (s *Server) newGroupForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "staff_group_new.html", newGroupPage{page: s.staffPage(c, "Ny grupp"),
		CSRF: csrfFor(staffFrom(c).token), Form: groupForm{Language: "sv"}})
}

func (s *Server) createGroup(c echo.Context) error {
	sc := staffFrom(c)
	f := groupForm{Slug: strings.TrimSpace(c.FormValue("slug")), Name: strings.TrimSpace(c.FormValue("name")),
		Purpose: strings.TrimSpace(c.FormValue("purpose")), Summary: strings.TrimSpace(c.FormValue("summary")),
		Website: strings.TrimSpace(c.FormValue("website")), Language: strings.TrimSpace(c.FormValue("language")),
		ManualApproval: c.FormValue("manual_approval") != ""}
	errs := map[string]string{}
	if !federation.ValidSlug(f.Slug) {
		errs["slug"] = "Adressen får ha 1–63 tecken: små bokstäver a–z, siffror, - och _, och börja med en bokstav eller siffra."
	}
	if f.Name == "" {
		errs["name"] = "Skriv gruppens namn."
	}
	if f.Purpose == "" {
		errs["purpose"] = "Skriv gruppens syfte: en grupp utan syfte kan inte skapas."
	}
	if f.Website != "" && !strings.HasPrefix(f.Website, "https://") && !strings.HasPrefix(f.Website, "http://") {
		errs["website"] = "Webbplatsen måste vara en adress som börjar med https://."
	}
	if f.Language == "" {
		f.Language = "sv"
	}
	if !validLanguage(f.Language) {
		errs["language"] = "Språket måste vara en språkkod enligt BCP 47, till exempel sv eller en."
	}
	fail := func(msg string) error {
		return s.render(c, http.StatusUnprocessableEntity, "staff_group_new.html", newGroupPage{page: s.staffPage(c, "Ny grupp"),
			CSRF: csrfFor(sc.token), Form: f, Errors: errs, Error: msg})
	}
	if len(errs) > 0 {
		return fail("Gruppen skapades inte. Rätta uppgifterna nedan.")
	}
	g, err := s.fed.CreateGroup(c.Request().Context(), federation.GroupInput{Slug: f.Slug, Name: f.Name, Purpose: f.Purpose,
		Summary: f.Summary, Language: f.Language, WebsiteURL: f.Website, ManualApproval: f.ManualApproval})
	switch {
	case errors.Is(err, store.ErrConflict):
		errs["slug"] = "Det finns redan en grupp med den adressen."
		return fail("Gruppen skapades inte. Rätta uppgifterna nedan.")
	case errors.Is(err, federation.ErrInvalid):
		return fail("Gruppen skapades inte: " + err.Error())
	case err != nil:
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_create", s.u.Group(g.Slug), "name "+g.Name); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), "Gruppen "+g.Name+" är skapad."))
}
