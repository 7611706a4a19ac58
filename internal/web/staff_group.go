package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/i18n"
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
		return nil, nil, echo.NewHTTPError(http.StatusGone, s.tr(c).T("staff.post.error.deleted"))
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
	Published                  time.Time
}

type staffMemberRow struct {
	UserID         int64
	Username, Role string
	Responsible    bool
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
	Drafts              []draftRow
	Admin               bool
	Members             []staffMemberRow
	Users               []staffUserOption
	// The follower queue (groups with manual approval, or any with pending
	// follows left from when they had it) and where followers come from.
	ShowQueue             bool
	Pending               []pendingRow
	PendingTotal          int64
	Followers, OtherHosts int64
	Hosts                 []store.HostCount
	// Residents' latest shown replies, each with a link to answer as the group.
	Replies []staffReplyRow
}

type staffReplyRow struct {
	Author, URL, ReplyURL, Language string
	ThreadURL                       string // the note in its nested thread on the post page
	Content                         template.HTML
}

type pendingRow struct {
	ActorIRI, Host string
	Since          time.Time
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
			Published: p.PublishedAt})
	}
	if err := s.followerSummary(ctx, g, &v); err != nil {
		return err
	}
	if v.Drafts, err = s.draftRows(c, g); err != nil {
		return err
	}
	if v.Admin {
		ms, err := s.st.ListGroupStaff(ctx, g.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			v.Members = append(v.Members, staffMemberRow{UserID: m.UserID, Username: m.Username, Role: s.roleName(c, m.Role), Responsible: m.Responsible})
		}
		us, err := s.st.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			if !u.Disabled && u.Role != auth.RoleAdmin {
				v.Users = append(v.Users, staffUserOption{ID: u.ID, Username: u.Username, Role: s.roleName(c, u.Role)})
			}
		}
	}
	notes, err := s.st.GroupNotes(ctx, g.ID, []string{store.NoteVisible}, 0, 20)
	if err != nil {
		return err
	}
	for _, n := range notes {
		r := staffReplyRow{Author: n.AuthorIRI, URL: firstNonEmptyStr(n.URL, n.IRI), Language: n.Language,
			ReplyURL: v.Compose + "?svar=" + url.QueryEscape(n.IRI), Content: template.HTML(shiftHeadings(n.ContentHTML, 2))}
		if n.PostID != nil && s.u.IsLocal(n.RootIRI) {
			r.ThreadURL = n.RootIRI + "#svar-" + itoa64(n.ID)
		}
		v.Replies = append(v.Replies, r)
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
		return s.renderStaffGroup(c, http.StatusUnprocessableEntity, g, "", s.tr(c).T("staff.group.error.role"))
	}
	id, _ := strconv.ParseInt(c.FormValue("user"), 10, 64)
	u, err := s.st.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || u.Role == auth.RoleAdmin)) {
		return s.renderStaffGroup(c, http.StatusUnprocessableEntity, g, "", s.tr(c).T("staff.group.error.account"))
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
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.group.notice.assigned", "Username", u.Username, "Role", s.roleName(c, role))))
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
	// The group's last responsible staff member stays: a group always has
	// one (name another on the edit page first).
	ms, err := s.st.ListGroupStaff(ctx, g.ID)
	if err != nil {
		return err
	}
	others := 0
	for _, m := range ms {
		if m.Responsible && m.UserID != u.ID {
			others++
		}
	}
	for _, m := range ms {
		if m.UserID == u.ID && m.Responsible && others == 0 {
			return s.renderStaffGroup(c, http.StatusConflict, g, "", s.tr(c).T("staff.group.error.last_responsible", "Name", u.Username))
		}
	}
	if err := s.st.RemoveGroupStaff(ctx, g.ID, u.ID); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_staff_remove", u.Username, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.group.notice.unassigned", "Username", u.Username)))
}

// Creating a group (administrators only).

type groupForm struct {
	Slug, Name, Purpose, Summary, Website, Language, OwningUnit string
	ManualApproval                                              bool
	// Responsible are the usernames checked as responsible staff.
	Responsible []string
	// Fields are the profile field rows (always MaxGroupFields of them).
	Fields []federation.Field
}

// accountOption is a staff account offered as responsible staff.
type accountOption struct {
	Username, Role string
	Checked        bool
}

type newGroupPage struct {
	page
	CSRF     string
	Form     groupForm
	Accounts []accountOption
	Errors   map[string]string
	Error    string
}

// accounts lists the active staff accounts, those in the form checked.
func (s *Server) accounts(c echo.Context, f *groupForm) ([]accountOption, error) {
	us, err := s.st.ListUsers(c.Request().Context())
	if err != nil {
		return nil, err
	}
	checked := map[string]bool{}
	for _, n := range f.Responsible {
		checked[n] = true
	}
	var out []accountOption
	for _, u := range us {
		if !u.Disabled {
			out = append(out, accountOption{Username: u.Username, Role: s.roleName(c, u.Role), Checked: checked[u.Username]})
		}
	}
	return out, nil
}

func (f *groupForm) padFields() {
	for len(f.Fields) < federation.MaxGroupFields {
		f.Fields = append(f.Fields, federation.Field{})
	}
}

func (s *Server) renderNewGroup(c echo.Context, code int, f groupForm, errs map[string]string, msg string) error {
	f.padFields()
	accts, err := s.accounts(c, &f)
	if err != nil {
		return err
	}
	return s.render(c, code, "staff_group_new.html", newGroupPage{page: s.staffPage(c, s.tr(c).T("staff.group_new.heading")),
		CSRF: csrfFor(staffFrom(c).token), Form: f, Accounts: accts, Errors: errs, Error: msg})
}

func (s *Server) newGroupForm(c echo.Context) error {
	return s.renderNewGroup(c, http.StatusOK, groupForm{Language: "sv", OwningUnit: s.opt.Instance.Organisation}, nil, "")
}

func readGroupForm(c echo.Context) groupForm {
	f := groupForm{Slug: strings.TrimSpace(c.FormValue("slug")), Name: strings.TrimSpace(c.FormValue("name")),
		Purpose: strings.TrimSpace(c.FormValue("purpose")), Summary: strings.TrimSpace(c.FormValue("summary")),
		Website: strings.TrimSpace(c.FormValue("website")), Language: strings.TrimSpace(c.FormValue("language")),
		OwningUnit: strings.TrimSpace(c.FormValue("owning_unit")), ManualApproval: c.FormValue("manual_approval") != ""}
	if fp, err := c.FormParams(); err == nil {
		f.Responsible = fp["responsible"]
	}
	for i := 0; i < federation.MaxGroupFields; i++ {
		n := strconv.Itoa(i)
		f.Fields = append(f.Fields, federation.Field{Name: strings.TrimSpace(c.FormValue("field_name_" + n)),
			Value: strings.TrimSpace(c.FormValue("field_value_" + n))})
	}
	return f
}

// check validates the fields staff may set (the slug only when creating),
// giving a message per field.
func (f *groupForm) check(l *i18n.Localizer, slug bool) map[string]string {
	errs := map[string]string{}
	if slug && !federation.ValidSlug(f.Slug) {
		errs["slug"] = l.T("staff.group_form.error.slug")
	}
	if f.Name == "" {
		errs["name"] = l.T("staff.group_form.error.name")
	}
	if f.Purpose == "" {
		errs["purpose"] = l.T("staff.group_form.error.purpose")
	}
	if f.OwningUnit == "" {
		errs["owning_unit"] = l.T("staff.group_form.error.owning_unit")
	}
	if len(f.Responsible) == 0 {
		errs["responsible"] = l.T("staff.group_form.error.responsible")
	}
	for i, fl := range f.Fields {
		if (fl.Name == "") != (fl.Value == "") {
			errs["fields"] = l.T("staff.group_form.error.field", "N", i+1)
		}
	}
	if f.Website != "" && !strings.HasPrefix(f.Website, "https://") && !strings.HasPrefix(f.Website, "http://") {
		errs["website"] = l.T("staff.group_form.error.website")
	}
	if f.Language == "" {
		f.Language = "sv"
	}
	if !validLanguage(f.Language) {
		errs["language"] = l.T("staff.form.error.language")
	}
	return errs
}

func (f groupForm) input() federation.GroupInput {
	return federation.GroupInput{Slug: f.Slug, Name: f.Name, Purpose: f.Purpose, Summary: f.Summary,
		Language: f.Language, WebsiteURL: f.Website, ManualApproval: f.ManualApproval,
		OwningUnit: f.OwningUnit, Responsible: f.Responsible, Fields: f.Fields}
}

func (s *Server) createGroup(c echo.Context) error {
	sc := staffFrom(c)
	f := readGroupForm(c)
	errs := f.check(s.tr(c), true)
	fail := func(msg string) error {
		return s.renderNewGroup(c, http.StatusUnprocessableEntity, f, errs, msg)
	}
	if len(errs) > 0 {
		return fail(s.tr(c).T("staff.group_new.error.not_created"))
	}
	g, err := s.fed.CreateGroup(c.Request().Context(), f.input())
	switch {
	case errors.Is(err, store.ErrConflict):
		errs["slug"] = s.tr(c).T("staff.group_new.error.slug_taken")
		return fail(s.tr(c).T("staff.group_new.error.not_created"))
	case errors.Is(err, federation.ErrInvalid):
		return fail(s.tr(c).T("staff.group_new.error.invalid", "Reason", err.Error()))
	case err != nil:
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_create", s.u.Group(g.Slug), "name "+g.Name); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.group_new.notice.created", "Name", g.Name)))
}

// Editing a group (administrators only): everything but the slug, which is
// the group's fediverse address, and its keys.

type editGroupPage struct {
	page
	CSRF, Domain string
	Group        *store.Group
	Modes        []modeChoice
	Form         groupForm
	Accounts     []accountOption
	Errors       map[string]string
	Error        string
	Uploads      bool
	Images       []groupImageView
	MaxBytes     string
}

func (s *Server) renderEditGroup(c echo.Context, code int, g *store.Group, f groupForm, errs map[string]string, msg string) error {
	f.padFields()
	accts, err := s.accounts(c, &f)
	if err != nil {
		return err
	}
	return s.render(c, code, "staff_group_edit.html", editGroupPage{page: s.staffPage(c, s.tr(c).T("staff.group_edit.heading", "Name", g.Name)),
		CSRF: csrfFor(staffFrom(c).token), Domain: s.u.Domain, Group: g, Form: f, Accounts: accts, Errors: errs, Error: msg,
		Modes: modeChoices(s.tr(c), g.DiscussionMode), Uploads: s.opt.Media.Storage != nil, Images: s.groupImageViews(c, g, "", ""),
		MaxBytes: byteSize(s.opt.Media.Limits.MaxBytes)})
}

func (s *Server) editGroupForm(c echo.Context) error {
	ctx := c.Request().Context()
	g, err := s.st.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	f := groupForm{Slug: g.Slug, Name: g.Name, Purpose: g.Purpose, Summary: g.Summary, Website: g.WebsiteURL,
		Language: g.Language, ManualApproval: g.ManualApproval, OwningUnit: g.OwningUnit, Fields: federation.GroupFields(g)}
	ms, err := s.st.ListGroupStaff(ctx, g.ID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Responsible {
			f.Responsible = append(f.Responsible, m.Username)
		}
	}
	return s.renderEditGroup(c, http.StatusOK, g, f, nil, "")
}

func (s *Server) editGroup(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	g, err := s.st.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	f := readGroupForm(c)
	f.Slug = g.Slug
	errs := f.check(s.tr(c), false)
	fail := func(msg string) error {
		return s.renderEditGroup(c, http.StatusUnprocessableEntity, g, f, errs, msg)
	}
	if len(errs) > 0 {
		return fail(s.tr(c).T("staff.group_edit.error.not_saved"))
	}
	old := *g
	ng, err := s.fed.UpdateGroup(ctx, g.Slug, f.input())
	switch {
	case errors.Is(err, federation.ErrInvalid):
		return fail(s.tr(c).T("staff.group_edit.error.invalid", "Reason", err.Error()))
	case err != nil:
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_edit", s.u.Group(ng.Slug), groupChanges(&old, ng)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(ng.Slug), s.tr(c).T("staff.group_edit.notice.saved", "Name", ng.Name)))
}

// groupChanges describes an edit for the audit log.
func groupChanges(old, g *store.Group) string {
	var ch []string
	diff := func(field, a, b string) {
		if a != b {
			ch = append(ch, field+" "+strconv.Quote(a)+" → "+strconv.Quote(b))
		}
	}
	diff("name", old.Name, g.Name)
	diff("purpose", old.Purpose, g.Purpose)
	diff("summary", old.Summary, g.Summary)
	diff("website", old.WebsiteURL, g.WebsiteURL)
	diff("language", old.Language, g.Language)
	diff("owning_unit", old.OwningUnit, g.OwningUnit)
	diff("fields", old.Fields, g.Fields)
	diff("manual_approval", strconv.FormatBool(old.ManualApproval), strconv.FormatBool(g.ManualApproval))
	if len(ch) == 0 {
		return "no changes"
	}
	return strings.Join(ch, "; ")
}

// The follower queue on a group's staff page.

const (
	pendingPerPage = 100
	topHosts       = 10
)

func (s *Server) followerSummary(ctx context.Context, g *store.Group, v *staffGroupPage) error {
	var err error
	if v.Followers, err = s.st.CountFollowers(ctx, g.ID, store.FollowAccepted); err != nil {
		return err
	}
	if v.Hosts, err = s.st.FollowerHosts(ctx, g.ID, store.FollowAccepted, topHosts); err != nil {
		return err
	}
	v.OtherHosts = v.Followers
	for _, h := range v.Hosts {
		v.OtherHosts -= h.N
	}
	if v.PendingTotal, err = s.st.CountFollowers(ctx, g.ID, store.FollowPending); err != nil {
		return err
	}
	v.ShowQueue = g.ManualApproval || v.PendingTotal > 0
	if v.PendingTotal == 0 {
		return nil
	}
	fs, err := s.st.ListFollowers(ctx, g.ID, store.FollowPending, 0, pendingPerPage)
	if err != nil {
		return err
	}
	for _, f := range fs {
		v.Pending = append(v.Pending, pendingRow{ActorIRI: f.ActorIRI, Host: f.Host, Since: f.CreatedAt})
	}
	return nil
}

// approveFollow accepts a pending follow and federates Accept.
func (s *Server) approveFollow(c echo.Context) error { return s.decideFollow(c, true) }

// rejectFollow refuses a pending follow and federates Reject.
func (s *Server) rejectFollow(c echo.Context) error { return s.decideFollow(c, false) }

func (s *Server) decideFollow(c echo.Context, accept bool) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	g, err := s.publishableGroup(c)
	if err != nil {
		return err
	}
	actor := strings.TrimSpace(c.FormValue("actor"))
	f, err := s.st.Follower(ctx, g.ID, actor)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.State != store.FollowPending) {
		return s.renderStaffGroup(c, http.StatusConflict, g, "", s.tr(c).T("staff.group.error.no_pending", "Actor", actor))
	}
	if err != nil {
		return err
	}
	action, notice := "follow_reject", s.tr(c).T("staff.group.notice.rejected", "Actor", actor)
	if accept {
		action, notice = "follow_approve", s.tr(c).T("staff.group.notice.approved", "Actor", actor)
		err = s.fed.Approve(ctx, g.Slug, actor)
	} else {
		err = s.fed.Reject(ctx, g.Slug, actor)
	}
	if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, action, actor, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), notice))
}

// modeChoice is one discussion mode in the staff form.
type modeChoice struct {
	Value, Label, Help string
	Checked            bool
}

func modeChoices(l *i18n.Localizer, current string) []modeChoice {
	cs := []modeChoice{
		{Value: store.ModeAnnouncements, Label: l.T("staff.mode.announcements.label"), Help: l.T("staff.mode.announcements.help")},
		{Value: store.ModeModerated, Label: l.T("staff.mode.moderated.label"), Help: l.T("staff.mode.moderated.help")},
		{Value: store.ModeOpen, Label: l.T("staff.mode.open.label"), Help: l.T("staff.mode.open.help")},
	}
	for i := range cs {
		cs[i].Checked = cs[i].Value == current
	}
	return cs
}

// setDiscussionMode sets how the group treats residents' replies
// (administrators only).
func (s *Server) setDiscussionMode(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	g, err := s.st.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	mode := c.FormValue("mode")
	if !store.ValidDiscussionMode(mode) {
		return c.Redirect(http.StatusSeeOther, withNotice("/staff/groups/"+g.Slug+"/edit", s.tr(c).T("staff.mode.choose")))
	}
	if err := s.fed.SetDiscussionMode(ctx, g.Slug, mode); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "group_mode", s.u.Group(g.Slug), g.DiscussionMode+" → "+mode); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.mode.saved")))
}
