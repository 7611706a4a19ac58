package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/cases"
	"github.com/torget/torget/internal/store"
)

// Cases: questions to groups and accessibility feedback, for staff
// (/staff/cases), and the liveness dashboard (/staff/dashboard).

func (s *Server) caseRoutes(g *echo.Group) {
	g.GET("/cases", s.casesPage)
	g.GET("/cases/:id", s.casePage)
	g.POST("/cases/:id/answer", s.caseAnswer)
	g.POST("/cases/:id/notes", s.caseNote)
	g.POST("/cases/:id/notes/:note/edit", s.caseNoteEdit)
	g.POST("/cases/:id/forward", s.caseForward)
	g.POST("/cases/:id/owner", s.caseOwner)
	g.POST("/cases/:id/not-question", s.caseNotQuestion)
	g.POST("/cases/:id/reopen", s.caseReopen)
	g.GET("/dashboard", s.dashboard)
	g.POST("/groups/:slug/contact", s.saveGroupContact)
	g.POST("/queue/reviewed", s.queueReviewed)
}

// caseScope returns the groups whose cases u may see (nil: all) and
// whether group-less (feedback) cases are visible.
func (s *Server) caseScope(ctx context.Context, u *store.User) (map[int64]bool, bool, error) {
	if u.Role == auth.RoleAdmin || u.Role == auth.RoleModerator {
		return nil, true, nil
	}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return nil, false, err
	}
	out := map[int64]bool{}
	for _, g := range gs {
		if ok, err := s.st.CanPublish(ctx, u, g.ID); err != nil {
			return nil, false, err
		} else if ok {
			out[g.ID] = true
		}
	}
	return out, false, nil
}

// mayAct reports whether u may answer, forward or annotate c: those who
// may publish as its group; administrators for feedback cases.
func (s *Server) mayAct(ctx context.Context, u *store.User, c *store.Case) (bool, error) {
	if c.GroupID == nil {
		return u.Role == auth.RoleAdmin, nil
	}
	return s.st.CanPublish(ctx, u, *c.GroupID)
}

type caseRow struct {
	ID                                   int64
	Group, Author, Excerpt, Status, Lang string
	Received, Due                        time.Time
	Overdue                              bool
	Kind                                 string
}

type casesPage struct {
	page
	Rows                    []caseRow
	Groups                  []store.Group
	Group, Status, Language string
	Now                     time.Time
	Enabled                 bool
}

var statusNames = map[string]string{store.CaseNew: msg("staff.case.status.new"), store.CaseAnswered: msg("staff.case.status.answered"),
	store.CaseForwarded: msg("staff.case.status.forwarded"), store.CaseNotQuestion: msg("staff.case.status.not_a_question")}

func (s *Server) statusName(c echo.Context, st string) string {
	if id, ok := statusNames[st]; ok {
		return s.tr(c).T(id)
	}
	return st
}

func (s *Server) casesPage(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	v := casesPage{page: s.staffPage(c, s.tr(c).T("staff.cases.heading")), Group: c.QueryParam("group"), Status: c.QueryParam("status"),
		Language: c.QueryParam("language"), Now: s.st.Now(), Enabled: s.opt.Cases != nil}
	if v.Status == "" && c.QueryParams().Get("status") == "" && !c.QueryParams().Has("status") {
		v.Status = "open"
	}
	scope, feedback, err := s.caseScope(ctx, sc.user)
	if err != nil {
		return err
	}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, g := range gs {
		names[g.ID] = g.Name
		if scope == nil || scope[g.ID] {
			v.Groups = append(v.Groups, g)
		}
	}
	f := store.CaseFilter{Status: v.Status, Language: v.Language}
	if v.Status == "all" {
		f.Status = ""
	}
	cs, err := s.st.ListCases(ctx, f)
	if err != nil {
		return err
	}
	for _, cs := range cs {
		if cs.GroupID == nil && !feedback || cs.GroupID != nil && scope != nil && !scope[*cs.GroupID] {
			continue
		}
		gname := s.tr(c).T("staff.cases.feedback_form")
		if cs.GroupID != nil {
			gname = names[*cs.GroupID]
			if v.Group != "" && v.Group != strconv.FormatInt(*cs.GroupID, 10) {
				continue
			}
		} else if v.Group != "" && v.Group != "feedback" {
			continue
		}
		author := cs.AuthorHandle
		if author == "" {
			author = s.tr(c).T("staff.case.anonymous")
			if cs.RequesterContact != "" {
				author = cs.RequesterContact
			}
		}
		v.Rows = append(v.Rows, caseRow{ID: cs.ID, Group: gname, Author: author, Excerpt: clip(cs.Text, 120), Status: s.statusName(c, cs.Status),
			Lang: cs.Language, Received: cs.ReceivedAt, Due: cs.DueAt, Overdue: cs.Overdue(v.Now), Kind: cs.Kind})
	}
	return s.render(c, http.StatusOK, "staff_cases.html", v)
}

type caseNoteView struct {
	ID     int64
	Author string
	At     time.Time
	Body   string
}

type casePage struct {
	page
	CSRF          string
	Case          *store.Case
	Group         *store.Group
	StatusName    string
	Overdue       bool
	Notes         []caseNoteView
	Templates     []cases.Template
	TemplateLangs []string
	TemplateLang  string
	Answer        string
	Groups        []store.Group
	Authorities   []cases.Authority
	Users         []store.User
	CanAct        bool
	Notice, Error string
	Forwarded     *store.Case
}

func (s *Server) loadCase(c echo.Context) (*store.Case, error) {
	if s.opt.Cases == nil {
		return nil, store.ErrNotFound
	}
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, store.ErrNotFound
	}
	cs, err := s.st.CaseByID(ctx, id)
	if err != nil {
		return nil, err
	}
	scope, feedback, err := s.caseScope(ctx, staffFrom(c).user)
	if err != nil {
		return nil, err
	}
	if cs.GroupID == nil && !feedback || cs.GroupID != nil && scope != nil && !scope[*cs.GroupID] {
		return nil, echo.NewHTTPError(http.StatusForbidden, "forbidden")
	}
	return cs, nil
}

func (s *Server) casePage(c echo.Context) error {
	return s.renderCase(c, http.StatusOK, c.QueryParam("notice"), "", c.QueryParam("template"))
}

func (s *Server) renderCase(c echo.Context, code int, notice, msg, tmpl string) error {
	ctx := c.Request().Context()
	cs, err := s.loadCase(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	v := casePage{page: s.staffPage(c, s.tr(c).T("staff.case.heading", "ID", cs.ID)), CSRF: csrfFor(sc.token), Case: cs, StatusName: s.statusName(c, cs.Status),
		Overdue: cs.Overdue(s.st.Now()), Notice: notice, Error: msg, Authorities: s.opt.Cases.Config().Authorities,
		TemplateLangs: cases.Languages, Answer: c.FormValue("text")}
	if v.CanAct, err = s.mayAct(ctx, sc.user, cs); err != nil {
		return err
	}
	if cs.GroupID != nil {
		if v.Group, err = s.st.GroupByID(ctx, *cs.GroupID); err != nil {
			return err
		}
	}
	v.TemplateLang = c.QueryParam("lang")
	if v.TemplateLang == "" {
		v.TemplateLang = cs.Language
	}
	v.Templates = s.opt.Cases.Templates(v.TemplateLang)
	if tmpl != "" && v.Answer == "" {
		if t, ok := s.opt.Cases.Template(tmpl, v.TemplateLang); ok {
			v.Answer = t.Text
		}
	}
	ns, err := s.st.CaseNotes(ctx, cs.ID)
	if err != nil {
		return err
	}
	for _, n := range ns {
		v.Notes = append(v.Notes, caseNoteView{ID: n.ID, Author: n.AuthorName, At: n.CreatedAt, Body: n.Body})
	}
	if v.Groups, err = s.st.ListGroups(ctx); err != nil {
		return err
	}
	if v.Users, err = s.st.ListUsers(ctx); err != nil {
		return err
	}
	return s.render(c, code, "staff_case.html", v)
}

// actOnCase loads the case and refuses staff who may not act on it.
func (s *Server) actOnCase(c echo.Context) (*store.Case, error) {
	cs, err := s.loadCase(c)
	if err != nil {
		return nil, err
	}
	ok, err := s.mayAct(c.Request().Context(), staffFrom(c).user, cs)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, echo.NewHTTPError(http.StatusForbidden, "forbidden")
	}
	return cs, nil
}

func casePath(id int64) string { return "/staff/cases/" + strconv.FormatInt(id, 10) }

// caseErrors translates the refusals of the cases package for the case
// page: the pattern matches the error's text after "invalid case action: ",
// its groups fill the message's Name.
var caseErrors = []struct {
	re *regexp.Regexp
	id string
}{
	{regexp.MustCompile(`^the note is empty$`), msg("staff.case.error.note_empty")},
	{regexp.MustCompile(`^the answer is empty$`), msg("staff.case.error.answer_empty")},
	{regexp.MustCompile(`^only a case marked not a question can be reopened$`), msg("staff.case.error.reopen")},
	{regexp.MustCompile(`^give the reason for forwarding$`), msg("staff.case.error.no_reason")},
	{regexp.MustCompile(`^no group "(.*)"$`), msg("staff.case.error.no_group")},
	{regexp.MustCompile(`^the case is already in (.*)$`), msg("staff.case.error.same_group")},
	{regexp.MustCompile(`^"(.*)" is not in the directory of authorities$`), msg("staff.case.error.no_authority")},
	{regexp.MustCompile(`^choose one group or one authority$`), msg("staff.case.error.no_target")},
}

// caseError shows a refused action on the case page (422) or passes other
// errors on.
func (s *Server) caseError(c echo.Context, err error) error {
	l := s.tr(c)
	switch {
	case errors.Is(err, store.ErrAppendOnly):
		return s.renderCase(c, http.StatusUnprocessableEntity, "", l.T("staff.case.error.note_append_only"), "")
	case errors.Is(err, cases.ErrNotOpen):
		return s.renderCase(c, http.StatusUnprocessableEntity, "", l.T("staff.case.error.not_open"), "")
	case errors.Is(err, cases.ErrInvalid):
		detail := strings.TrimPrefix(err.Error(), cases.ErrInvalid.Error()+": ")
		for _, e := range caseErrors {
			if m := e.re.FindStringSubmatch(detail); m != nil {
				name := ""
				if len(m) > 1 {
					name = m[1]
				}
				return s.renderCase(c, http.StatusUnprocessableEntity, "", l.T(e.id, "Name", name), "")
			}
		}
		return s.renderCase(c, http.StatusUnprocessableEntity, "", detail, "")
	}
	return err
}

func (s *Server) caseAnswer(c echo.Context) error {
	cs, err := s.actOnCase(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	if err := s.opt.Cases.Answer(c.Request().Context(), cs, sc.user, c.FormValue("text")); err != nil {
		return s.caseError(c, err)
	}
	if err := s.audit(c, sc.user, "", "case_answer", casePath(cs.ID), cs.AnswerIRI); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(casePath(cs.ID), s.tr(c).T("staff.case.notice.answered")))
}

func (s *Server) caseNote(c echo.Context) error {
	cs, err := s.actOnCase(c)
	if err != nil {
		return err
	}
	if _, err := s.opt.Cases.AddNote(c.Request().Context(), cs.ID, staffFrom(c).user, c.FormValue("body")); err != nil {
		return s.caseError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, withNotice(casePath(cs.ID), s.tr(c).T("staff.case.notice.note_saved")))
}

// caseNoteEdit refuses every edit: notes are only appended (SVC-5).
func (s *Server) caseNoteEdit(c echo.Context) error {
	cs, err := s.actOnCase(c)
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(c.Param("note"), 10, 64)
	err = s.opt.Cases.EditNote(c.Request().Context(), id, c.FormValue("body"))
	if errors.Is(err, store.ErrAppendOnly) {
		return s.renderCase(c, http.StatusConflict, "", s.tr(c).T("staff.case.error.note_append_only"), "")
	}
	_ = cs
	return err
}

func (s *Server) caseForward(c echo.Context) error {
	cs, err := s.actOnCase(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	to := c.FormValue("to")
	var slug, authority string
	switch {
	case strings.HasPrefix(to, "group:"):
		slug = strings.TrimPrefix(to, "group:")
	case strings.HasPrefix(to, "authority:"):
		authority = strings.TrimPrefix(to, "authority:")
	}
	moved, err := s.opt.Cases.Forward(c.Request().Context(), cs, sc.user, slug, authority, c.FormValue("reason"))
	if err != nil {
		return s.caseError(c, err)
	}
	detail := cs.ForwardedTo + ": " + cs.ForwardReason
	if moved != nil {
		detail += fmt.Sprintf(" (case %d)", moved.ID)
	}
	if err := s.audit(c, sc.user, "", "case_forward", casePath(cs.ID), detail); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(casePath(cs.ID), s.tr(c).T("staff.case.notice.forwarded", "To", cs.ForwardedTo)))
}

func (s *Server) caseOwner(c echo.Context) error {
	cs, err := s.actOnCase(c)
	if err != nil {
		return err
	}
	var owner *int64
	if id, err := strconv.ParseInt(c.FormValue("owner"), 10, 64); err == nil && id > 0 {
		if _, err := s.st.UserByID(c.Request().Context(), id); err != nil {
			return s.renderCase(c, http.StatusUnprocessableEntity, "", s.tr(c).T("staff.case.error.no_account"), "")
		}
		owner = &id
	}
	if err := s.opt.Cases.SetOwner(c.Request().Context(), cs, owner); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(casePath(cs.ID), s.tr(c).T("staff.case.notice.owner_saved")))
}

func (s *Server) caseNotQuestion(c echo.Context) error {
	cs, err := s.actOnCase(c)
	if err != nil {
		return err
	}
	if err := s.opt.Cases.MarkNotQuestion(c.Request().Context(), cs); err != nil {
		return s.caseError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, withNotice(casePath(cs.ID), s.tr(c).T("staff.case.notice.not_question")))
}

func (s *Server) caseReopen(c echo.Context) error {
	cs, err := s.actOnCase(c)
	if err != nil {
		return err
	}
	if err := s.opt.Cases.Reopen(c.Request().Context(), cs); err != nil {
		return s.caseError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, withNotice(casePath(cs.ID), s.tr(c).T("staff.case.notice.reopened")))
}

// saveGroupContact stores when and how a group answers (SVC-2).
func (s *Server) saveGroupContact(c echo.Context) error {
	g, err := s.publishableGroup(c)
	if err != nil {
		return err
	}
	gc := &store.GroupContact{GroupID: g.ID, StaffedHours: clip(strings.TrimSpace(c.FormValue("staffed_hours")), 300),
		ResponseTime: clip(strings.TrimSpace(c.FormValue("response_time")), 300), Channels: clip(strings.TrimSpace(c.FormValue("channels")), 2000),
		OpenHours: clip(strings.TrimSpace(c.FormValue("open_hours")), 300), AutoReply: c.FormValue("auto_reply") != ""}
	if hours, err := cases.ParseOpenHours(gc.OpenHours); err != nil || (gc.AutoReply && len(hours) == 0) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, s.tr(c).T("staff.dashboard.contact.open_hours.invalid"))
	}
	if err := s.st.SaveGroupContact(c.Request().Context(), gc); err != nil {
		return err
	}
	s.fed.PagesChanged()
	if err := s.audit(c, staffFrom(c).user, "", "group_contact", g.Slug, ""); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice("/staff/dashboard", s.tr(c).T("staff.dashboard.notice.contact_saved", "Name", g.Name)))
}

// queueReviewed records a moderator's review of a queue (LIV-2); the
// moderation queue's pages post here (or call store.RecordQueueReview).
func (s *Server) queueReviewed(c echo.Context) error {
	sc := staffFrom(c)
	if sc.user.Role != auth.RoleAdmin && sc.user.Role != auth.RoleModerator {
		return echo.NewHTTPError(http.StatusForbidden, "forbidden")
	}
	r := &store.QueueReview{UserID: &sc.user.ID, Username: sc.user.Username}
	if slug := c.FormValue("group"); slug != "" {
		g, err := s.st.GroupBySlug(c.Request().Context(), slug)
		if err != nil {
			return err
		}
		r.GroupID = &g.ID
	}
	if err := s.st.RecordQueueReview(c.Request().Context(), r); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice("/staff/dashboard", s.tr(c).T("staff.dashboard.notice.reviewed")))
}
