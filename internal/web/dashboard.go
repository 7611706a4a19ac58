package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
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
}

func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	now := s.st.Now()
	scope, feedback, err := s.caseScope(ctx, sc.user)
	if err != nil {
		return err
	}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return err
	}
	const window = 90 * 24 * time.Hour
	act, err := s.st.GroupPostActivity(ctx, now.Add(-window))
	if err != nil {
		return err
	}
	counts, err := s.st.CaseCounts(ctx, now)
	if err != nil {
		return err
	}
	reviews, err := s.st.LastQueueReviews(ctx)
	if err != nil {
		return err
	}
	l := s.opt.Liveness
	v := dashPage{page: s.staffPage(c, s.tr(c).T("staff.dashboard.heading")), CSRF: csrfFor(sc.token), StaleDays: l.StaleDays, SupervisionDays: l.SupervisionDays,
		Notice: c.QueryParam("notice"), Instance: dashRow{Name: s.tr(c).T("staff.dashboard.instance"), DaysSincePost: -1}, Admin: sc.user.Role == auth.RoleAdmin,
		CanReview: sc.user.Role == auth.RoleAdmin || sc.user.Role == auth.RoleModerator}
	days := func(t time.Time) int { return int(now.Sub(t).Hours() / 24) }
	var instLast *time.Time
	for _, g := range gs {
		if scope != nil && !scope[g.ID] {
			continue
		}
		r := dashRow{ID: g.ID, Slug: g.Slug, Name: g.Name, DaysSincePost: -1, CanEdit: true}
		last := g.CreatedAt
		if a := act[g.ID]; a != nil {
			if a.LastPost != nil {
				r.DaysSincePost = days(*a.LastPost)
				last = *a.LastPost
				if instLast == nil || a.LastPost.After(*instLast) {
					instLast = a.LastPost
				}
			}
			r.PostsPerMonth = float64(a.Posts) / 3
			v.Instance.PostsPerMonth += r.PostsPerMonth
		}
		r.Stale = days(last) > l.StaleDays
		if cc := counts[g.ID]; cc != nil {
			r.Open, r.Overdue = cc.Open, cc.Overdue
			if cc.Oldest != nil {
				r.OldestOpenDays = days(*cc.Oldest)
			}
		}
		supervisedSince := g.CreatedAt
		if t, ok := reviews[g.ID]; ok {
			r.LastReview = &t
			supervisedSince = t
		}
		if t, ok := reviews[0]; ok && t.After(supervisedSince) {
			supervisedSince = t // an instance-wide review covers every group
		}
		r.Unsupervised = now.Sub(supervisedSince) > time.Duration(l.SupervisionDays)*24*time.Hour
		if r.Contact, err = s.st.GroupContactFor(ctx, g.ID); err != nil {
			return err
		}
		if r.Stale {
			v.Warnings = append(v.Warnings, s.tr(c).T("staff.dashboard.warn.stale", "Name", g.Name, "Days", l.StaleDays))
		}
		if r.Overdue > 0 {
			v.Warnings = append(v.Warnings, s.tr(c).T("staff.dashboard.warn.overdue", "Name", g.Name, "Count", r.Overdue))
		}
		if r.Unsupervised {
			v.Warnings = append(v.Warnings, s.tr(c).T("staff.dashboard.warn.unsupervised", "Name", g.Name, "Days", l.SupervisionDays))
		}
		v.Instance.Open += r.Open
		v.Instance.Overdue += r.Overdue
		if r.OldestOpenDays > v.Instance.OldestOpenDays {
			v.Instance.OldestOpenDays = r.OldestOpenDays
		}
		v.Rows = append(v.Rows, r)
	}
	if cc := counts[0]; cc != nil && feedback {
		v.Instance.Open += cc.Open
		v.Instance.Overdue += cc.Overdue
		if cc.Overdue > 0 {
			v.Warnings = append(v.Warnings, s.tr(c).T("staff.dashboard.warn.feedback_overdue", "Count", cc.Overdue))
		}
	}
	if instLast != nil {
		v.Instance.DaysSincePost = days(*instLast)
	}
	if t, ok := reviews[0]; ok {
		v.Instance.LastReview = &t
	}
	oldest, err := s.st.OldestPendingInbox(ctx)
	if err != nil {
		return err
	}
	v.QueueAge = s.tr(c).T("staff.dashboard.queue_empty")
	if oldest != nil {
		v.QueueAge = now.Sub(*oldest).Round(time.Minute).String()
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
