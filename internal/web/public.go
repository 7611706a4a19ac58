package web

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/cases"
	"github.com/torget/torget/internal/store"
)

// PrivacyNotice is the privacy notice's content (GDPR art. 13, PRV-1),
// from the configuration.
type PrivacyNotice struct {
	Controller, DPO, Purposes, LegalBasis, Recipients, Retention, Rights, Complaint, Transfers string
}

// AccessStatement is the accessibility statement's content (Digg's
// fields, ACC-2), from the configuration.
type AccessStatement struct {
	Status                                                string
	Gaps                                                  []string
	AssessedOn, UpdatedOn, Method, Exceptions, OutOfScope string
	SupervisorURL                                         string
}

// Liveness sets the dashboard's warning thresholds.
type Liveness struct {
	StaleDays, SupervisionDays, FeedbackPerHour int
	Mailing                                     bool // alerts are mailed (SMTP configured)
}

func (l *Liveness) defaults() {
	if l.StaleDays <= 0 {
		l.StaleDays = 30
	}
	if l.SupervisionDays <= 0 {
		l.SupervisionDays = 7
	}
	if l.FeedbackPerHour <= 0 {
		l.FeedbackPerHour = 10
	}
}

// feedbackRoute is the accessibility feedback form (no sign-in).
const feedbackRoute = "/tillganglighet/feedback"

func (s *Server) publicRoutes(e *echo.Echo) {
	e.GET("/tillganglighet", s.accessibilityStatement)
	e.GET(feedbackRoute, s.feedbackForm)
	e.POST(feedbackRoute, s.feedback)
	e.GET("/official-groups", s.register)
	e.GET("/official-groups.json", s.registerJSON)
}

type statementPage struct {
	page
	A AccessStatement
}

// accessibilityStatement serves the statement at its fixed path.
func (s *Server) accessibilityStatement(c echo.Context) error {
	v := statementPage{page: s.page(c, s.tr(c).T("statement.heading"), ""), A: s.opt.Access}
	return s.render(c, http.StatusOK, "statement.html", v)
}

type feedbackPage struct {
	page
	CSRF          string
	Kind, Text    string
	Contact, Page string
	Errors        map[string]string
	Sent          bool
}

func (s *Server) feedbackForm(c echo.Context) error {
	v := feedbackPage{page: s.page(c, s.tr(c).T("feedback.heading"), ""), CSRF: s.csrfToken(c), Kind: "problem",
		Page: c.QueryParam("page"), Sent: c.QueryParam("sent") == "1"}
	return s.render(c, http.StatusOK, "feedback.html", v)
}

// feedback stores a submission as a case (ACC-3). It needs no sign-in;
// the double-submit cookie stops cross-site posts and a per-address limit
// stops floods.
func (s *Server) feedback(c echo.Context) error {
	if s.opt.Cases == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "feedback is not available")
	}
	v := feedbackPage{page: s.page(c, s.tr(c).T("feedback.heading"), ""), CSRF: s.csrfToken(c),
		Kind: c.FormValue("kind"), Text: strings.TrimSpace(c.FormValue("text")), Contact: strings.TrimSpace(c.FormValue("contact")),
		Page: strings.TrimSpace(c.FormValue("page")), Errors: map[string]string{}}
	if v.Kind != "problem" && v.Kind != "request" {
		v.Errors["kind"] = s.tr(c).T("feedback.error.kind")
	}
	if v.Text == "" {
		v.Errors["text"] = s.tr(c).T("feedback.error.text")
	} else if len([]rune(v.Text)) > 5000 {
		v.Errors["text"] = s.tr(c).T("feedback.error.too_long")
	}
	if len(v.Errors) > 0 {
		v.Title = s.tr(c).T("feedback.error.title", "Title", v.Title)
		return s.render(c, http.StatusUnprocessableEntity, "feedback.html", v)
	}
	if !s.fb.allow(c.RealIP(), time.Now()) {
		return echo.NewHTTPError(http.StatusTooManyRequests, "too many messages from this address; try again in a while")
	}
	if _, err := s.opt.Cases.FromFeedback(c.Request().Context(), cases.Feedback{Kind: v.Kind, Text: v.Text, Contact: v.Contact,
		Page: v.Page, Language: s.tr(c).Lang}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, feedbackRoute+"?sent=1")
}

// registerEntry is one official group in the public register (ID-6).
type registerEntry struct {
	Slug             string     `json:"slug"`
	Name             string     `json:"name"`
	Handle           string     `json:"handle"`
	URL              string     `json:"url"`
	Unit             string     `json:"owning_unit"`
	Purpose          string     `json:"purpose"`
	Responsible      string     `json:"responsible_function"`
	Status           string     `json:"status"`
	Started          time.Time  `json:"start_date"`
	Website          string     `json:"website,omitempty"`
	LastOfficialPost *time.Time `json:"last_official_post,omitempty"`
}

type registerPage struct {
	page
	Entries   []registerEntry
	StaleDays int
}

// registerEntries lists every group with its owning unit and the
// functions (roles) of its responsible staff.
func (s *Server) registerEntries(c echo.Context) ([]registerEntry, error) {
	ctx := c.Request().Context()
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	act, err := s.st.GroupPostActivity(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	now := s.st.Now()
	out := make([]registerEntry, 0, len(gs))
	for _, g := range gs {
		e := registerEntry{Slug: g.Slug, Name: g.Name, Handle: s.handle(g.Slug), URL: s.u.Group(g.Slug), Unit: g.OwningUnit,
			Purpose: g.Purpose, Status: "active", Started: g.CreatedAt.UTC(), Website: g.WebsiteURL}
		if e.Unit == "" {
			e.Unit = s.opt.Instance.Organisation
		}
		if e.Responsible, err = s.responsibleFunctions(c, &g); err != nil {
			return nil, err
		}
		if e.Responsible == "" {
			e.Responsible = "ingen namngiven ansvarig"
		}
		last := g.CreatedAt
		if a := act[g.ID]; a != nil && a.LastPost != nil {
			e.LastOfficialPost = a.LastPost
			last = *a.LastPost
		}
		if now.Sub(last) > time.Duration(s.opt.Liveness.StaleDays)*24*time.Hour {
			e.Status = "dormant"
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Server) register(c echo.Context) error {
	es, err := s.registerEntries(c)
	if err != nil {
		return err
	}
	v := registerPage{page: s.page(c, s.tr(c).T("register.heading"), ""), Entries: es, StaleDays: s.opt.Liveness.StaleDays}
	return s.render(c, http.StatusOK, "register.html", v)
}

func (s *Server) registerJSON(c echo.Context) error {
	es, err := s.registerEntries(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"provider": s.opt.Instance.Organisation, "provider_url": s.opt.Instance.OrganisationURL,
		"groups": es})
}

// groupService is what a group page says about who provides it, how
// posts become visible and when and how the group answers (ID-1, SVC-2).
type groupService struct {
	Provider, ProviderURL, Contact string
	StaffedHours, ResponseTime     string
	Channels                       []string
	DueWorkingDays                 int
}

func (s *Server) groupServiceFor(ctx context.Context, g *store.Group) (*groupService, error) {
	gc, err := s.st.GroupContactFor(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	provider := s.opt.Instance.Organisation
	if g.OwningUnit != "" && g.OwningUnit != provider {
		provider = g.OwningUnit + ", " + provider
	}
	v := &groupService{Provider: provider, ProviderURL: s.opt.Instance.OrganisationURL, Contact: s.opt.Instance.ContactEmail,
		StaffedHours: gc.StaffedHours, ResponseTime: gc.ResponseTime, DueWorkingDays: 1}
	if s.opt.Cases != nil {
		v.DueWorkingDays = s.opt.Cases.Config().DueWorkingDays
	}
	for _, l := range strings.Split(gc.Channels, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			v.Channels = append(v.Channels, l)
		}
	}
	return v, nil
}

// rateLimiter allows n events per window per key (in this process).
type rateLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	seen   map[string][]time.Time
}

func newRateLimiter(n int, window time.Duration) *rateLimiter {
	if n <= 0 {
		n = 10
	}
	return &rateLimiter{n: n, window: window, seen: map[string][]time.Time{}}
}

func (l *rateLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 10000 {
		l.seen = map[string][]time.Time{} // bound memory; the limit is a brake, not a record
	}
	ts := l.seen[key][:0:0]
	for _, t := range l.seen[key] {
		if now.Sub(t) < l.window {
			ts = append(ts, t)
		}
	}
	if len(ts) >= l.n {
		l.seen[key] = ts
		return false
	}
	l.seen[key] = append(ts, now)
	return true
}

// The feedback form is a public form that stores something: it carries
// the sign-in form's double-submit token (session.go).
func init() { publicFormRoutes[feedbackRoute] = true }
