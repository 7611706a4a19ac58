package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/liveness"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/subject"
)

// The liveness dashboard (LIV-1, LIV-2): per group and for the instance.

type dashRow struct {
	ID                  int64
	Slug, Name          string
	DaysSincePost       int // -1: never posted
	PostsPerMonth       float64
	Open, Overdue       int64
	OldestOpenDays      int
	LastReview          *time.Time
	Stale, Unsupervised bool
	NoResponsible       bool
	Contact             *store.GroupContact
	CanEdit             bool
}

type dashPage struct {
	page
	CSRF                       string
	Rows                       []dashRow
	Warnings                   []string
	Instance                   dashRow
	QueueAge                   string
	StaleDays, SupervisionDays int
	Notice                     string
	Admin, CanReview           bool
	Alerts                     []alertRow // admins: the latest alerts and their state
	AlertCounts                map[string]int64
	Mailing                    bool // SMTP is configured
}

type alertRow struct {
	At                          time.Time
	Kind, Recipient, State, Err string
	Attempts                    int
}

var alertKindIDs = map[string]string{
	"stale": msg("staff.alerts.kind.stale"), "overdue": msg("staff.alerts.kind.overdue"), "unsupervised": msg("staff.alerts.kind.unsupervised"),
	"no_responsible": msg("staff.alerts.kind.no_responsible"), "legal_report": msg("staff.alerts.kind.legal_report"),
	"group_created": msg("staff.alerts.kind.group_created"), "group_closed": msg("staff.alerts.kind.group_closed"),
}

var alertStateIDs = map[string]string{
	store.NotifyPending: msg("staff.alerts.state.pending"), store.NotifySent: msg("staff.alerts.state.sent"),
	store.NotifyFailed: msg("staff.alerts.state.failed"), store.NotifyUnaddressed: msg("staff.alerts.state.unaddressed"),
}

// livenessConfig is the limits for internal/liveness.
func (s *Server) livenessConfig() liveness.Config {
	l := s.opt.Liveness
	return liveness.Config{StaleDays: l.StaleDays, SupervisionDays: l.SupervisionDays, LegalTarget: s.opt.LegalTarget, Location: s.opt.TimeZone}
}

func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	tr := s.tr(c)
	scope, feedback, err := s.caseScope(ctx, sc.user)
	if err != nil {
		return err
	}
	rep, err := liveness.Check(ctx, s.st, s.livenessConfig())
	if err != nil {
		return err
	}
	now := rep.Now
	l := s.opt.Liveness
	v := dashPage{page: s.staffPage(c, tr.T("staff.dashboard.heading")), CSRF: csrfFor(sc.token), StaleDays: l.StaleDays, SupervisionDays: l.SupervisionDays,
		Notice: c.QueryParam("notice"), Instance: dashRow{Name: tr.T("staff.dashboard.instance"), DaysSincePost: -1}, Admin: sc.user.Role == auth.RoleAdmin,
		CanReview: sc.user.Role == auth.RoleAdmin || sc.user.Role == auth.RoleModerator, Mailing: l.Mailing}
	days := func(t time.Time) int { return int(now.Sub(t).Hours() / 24) }
	var instLast *time.Time
	for _, gs := range rep.Groups {
		g := gs.Group
		if scope != nil && !scope[g.ID] {
			continue
		}
		r := dashRow{ID: g.ID, Slug: g.Slug, Name: g.Name, DaysSincePost: -1, CanEdit: true, LastReview: gs.LastReview,
			Stale: gs.Stale, Unsupervised: gs.Unsupervised, NoResponsible: gs.NoResponsible}
		if gs.LastPost != nil {
			r.DaysSincePost = days(*gs.LastPost)
			if instLast == nil || gs.LastPost.After(*instLast) {
				instLast = gs.LastPost
			}
		}
		r.PostsPerMonth = float64(gs.PostsInWindow) / 3
		v.Instance.PostsPerMonth += r.PostsPerMonth
		if cc := gs.Cases; cc != nil {
			r.Open, r.Overdue = cc.Open, cc.Overdue
			if cc.Oldest != nil {
				r.OldestOpenDays = days(*cc.Oldest)
			}
		}
		if r.Contact, err = s.st.GroupContactFor(ctx, g.ID); err != nil {
			return err
		}
		if r.Stale {
			v.Warnings = append(v.Warnings, tr.T("staff.dashboard.warn.stale", "Name", g.Name, "Days", l.StaleDays))
		}
		if r.Overdue > 0 {
			v.Warnings = append(v.Warnings, tr.T("staff.dashboard.warn.overdue", "Name", g.Name, "Count", r.Overdue))
		}
		if r.Unsupervised {
			v.Warnings = append(v.Warnings, tr.T("staff.dashboard.warn.unsupervised", "Name", g.Name, "Days", l.SupervisionDays))
		}
		if r.NoResponsible {
			v.Warnings = append(v.Warnings, tr.T("staff.dashboard.warn.no_responsible", "Name", g.Name))
		}
		v.Instance.Open += r.Open
		v.Instance.Overdue += r.Overdue
		if r.OldestOpenDays > v.Instance.OldestOpenDays {
			v.Instance.OldestOpenDays = r.OldestOpenDays
		}
		v.Rows = append(v.Rows, r)
	}
	for _, w := range rep.Warnings {
		if w.Kind != liveness.LegalReport || !v.CanReview {
			continue
		}
		v.Warnings = append(v.Warnings, tr.T("staff.dashboard.warn.legal_report", "ID", w.ReportID, "Category", w.Category,
			"Hours", s.livenessConfig().LegalHours()))
	}
	if cc := rep.Feedback; cc != nil && feedback {
		v.Instance.Open += cc.Open
		v.Instance.Overdue += cc.Overdue
		if cc.Overdue > 0 {
			v.Warnings = append(v.Warnings, tr.T("staff.dashboard.warn.feedback_overdue", "Count", cc.Overdue))
		}
	}
	if instLast != nil {
		v.Instance.DaysSincePost = days(*instLast)
	}
	v.Instance.LastReview = rep.InstanceReview
	oldest, err := s.st.OldestPendingInbox(ctx)
	if err != nil {
		return err
	}
	v.QueueAge = tr.T("staff.dashboard.queue_empty")
	if oldest != nil {
		v.QueueAge = now.Sub(*oldest).Round(time.Minute).String()
	}
	if v.Admin {
		ns, err := s.st.RecentNotifications(ctx, 20)
		if err != nil {
			return err
		}
		for _, n := range ns {
			who := n.Address
			if who == "" {
				who = n.RecipientKey
			}
			v.Alerts = append(v.Alerts, alertRow{At: n.CreatedAt, Kind: tr.T(alertKindIDs[n.Kind]), Recipient: who,
				State: tr.T(alertStateIDs[n.State]), Err: n.LastError, Attempts: n.Attempts})
		}
		if v.AlertCounts, err = s.st.NotificationCounts(ctx); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "staff_dashboard.html", v)
}

// subjectExport downloads everything held about one remote account
// (GDPR art. 15, PRV-5), for administrators.
func (s *Server) subjectExport(c echo.Context) error {
	ctx := c.Request().Context()
	who := c.QueryParam("account")
	if who == "" {
		return s.render(c, http.StatusOK, "staff_export.html", struct {
			page
			Error string
		}{page: s.staffPage(c, s.tr(c).T("staff.export.heading"))})
	}
	iri, err := subject.Resolve(ctx, s.st, who)
	if err == nil {
		var x *subject.Export
		if x, err = subject.Build(ctx, s.st, iri, s.opt.Privacy.Controller); err == nil {
			if err := s.audit(c, staffFrom(c).user, "", "subject_export", iri, ""); err != nil {
				return err
			}
			b, err := json.MarshalIndent(x, "", "  ")
			if err != nil {
				return err
			}
			c.Response().Header().Set("Content-Disposition", `attachment; filename="registerutdrag.json"`)
			return c.Blob(http.StatusOK, "application/json; charset=utf-8", b)
		}
	}
	return s.render(c, http.StatusNotFound, "staff_export.html", struct {
		page
		Error string
	}{page: s.staffPage(c, s.tr(c).T("staff.export.heading")), Error: s.tr(c).T("staff.export.not_found", "Account", who)})
}
