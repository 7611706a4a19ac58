// Package liveness computes the warnings about groups and their
// supervision (LIV-1, LIV-2, ID-3, MOD-5): a group gone stale, a case past
// its due time, a moderation queue nobody reviewed, a group with no
// active responsible staff, a report of clearly illegal content not acted
// on in time. The staff dashboard shows them; the notifier mails them.
package liveness

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/store"
)

// Config holds the limits (the [cases] section).
type Config struct {
	StaleDays       int // no official post for longer: stale
	SupervisionDays int // no queue review for longer: supervision lapsed
	// LegalTarget is the MOD-5 target for acting on a report in a legal
	// category (MOD-2): the same one the moderation queue shows
	// ([moderation] legal_target, working_hours). The zero value means four
	// working hours, Monday–Friday 08–17 in Location.
	LegalTarget moderation.Target
	Location    *time.Location // instance time zone
}

// Kind names a warning.
type Kind string

// The kinds of warning and of alert.
const (
	Stale         Kind = "stale"
	Overdue       Kind = "overdue"
	Unsupervised  Kind = "unsupervised"
	NoResponsible Kind = "no_responsible"
	LegalReport   Kind = "legal_report"
	GroupCreated  Kind = "group_created"
	GroupClosed   Kind = "group_closed"
)

// Warning is one condition that needs a person.
type Warning struct {
	Kind  Kind
	Group *store.Group // nil for the instance-wide feedback cases
	// Days is the limit passed (stale, unsupervised).
	Days     int
	CaseID   int64
	ReportID int64
	Category string    // the report's legal ground
	Since    time.Time // when this episode of the condition began
	// Key names the condition and its episode: a group that recovers and
	// goes stale again gets a new key, so it alerts again.
	Key string
}

// GroupStatus is one group's liveness.
type GroupStatus struct {
	Group         store.Group
	LastPost      *time.Time
	PostsInWindow int64
	Cases         *store.CaseCount // nil when the group has none
	LastReview    *time.Time       // of this group's queue
	// SupervisedSince is the latest review of this group's queue or the
	// whole queue, or the group's creation.
	SupervisedSince time.Time
	Responsible     []store.User
	Stale           bool
	Unsupervised    bool
	NoResponsible   bool
}

// Report is the state of every group at Now.
type Report struct {
	Now            time.Time
	Groups         []GroupStatus
	Feedback       *store.CaseCount // cases not addressed to a group
	InstanceReview *time.Time       // latest review of the whole queue
	Warnings       []Warning
}

// Window is how far back posts per month are counted.
const Window = 90 * 24 * time.Hour

// Check computes every group's status and the warnings, reading through
// st (a transaction, when the caller writes alerts in the same one).
func Check(ctx context.Context, st *store.Store, cfg Config) (*Report, error) {
	now := st.Now()
	gs, err := st.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	act, err := st.GroupPostActivity(ctx, now.Add(-Window))
	if err != nil {
		return nil, err
	}
	counts, err := st.CaseCounts(ctx, now)
	if err != nil {
		return nil, err
	}
	reviews, err := st.LastQueueReviews(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := st.ResponsibleStaffByGroup(ctx)
	if err != nil {
		return nil, err
	}
	r := &Report{Now: now, Feedback: counts[0]}
	if t, ok := reviews[0]; ok {
		r.InstanceReview = &t
	}
	byID := map[int64]*store.Group{}
	for i := range gs {
		g := gs[i]
		byID[g.ID] = &gs[i]
		s := GroupStatus{Group: g, Cases: counts[g.ID], Responsible: resp[g.ID], SupervisedSince: g.CreatedAt}
		last := g.CreatedAt
		if a := act[g.ID]; a != nil {
			s.LastPost, s.PostsInWindow = a.LastPost, a.Posts
			if a.LastPost != nil && a.LastPost.After(last) {
				last = *a.LastPost
			}
		}
		if t, ok := reviews[g.ID]; ok {
			s.LastReview = &t
			if t.After(s.SupervisedSince) {
				s.SupervisedSince = t
			}
		}
		if r.InstanceReview != nil && r.InstanceReview.After(s.SupervisedSince) {
			s.SupervisedSince = *r.InstanceReview // an instance-wide review covers every group
		}
		open := g.ClosedAt == nil
		s.Stale = open && now.Sub(last) > days(cfg.StaleDays)
		s.Unsupervised = open && now.Sub(s.SupervisedSince) > days(cfg.SupervisionDays)
		var active []string
		for _, u := range s.Responsible {
			if !u.Disabled {
				active = append(active, strconv.FormatInt(u.ID, 10))
			}
		}
		s.NoResponsible = open && len(active) == 0
		gp := byID[g.ID]
		if s.Stale {
			r.Warnings = append(r.Warnings, Warning{Kind: Stale, Group: gp, Days: cfg.StaleDays, Since: last,
				Key: fmt.Sprintf("stale:g%d:%d", g.ID, last.Unix())})
		}
		if s.Unsupervised {
			r.Warnings = append(r.Warnings, Warning{Kind: Unsupervised, Group: gp, Days: cfg.SupervisionDays, Since: s.SupervisedSince,
				Key: fmt.Sprintf("unsupervised:g%d:%d", g.ID, s.SupervisedSince.Unix())})
		}
		if s.NoResponsible {
			ids := make([]string, 0, len(s.Responsible))
			for _, u := range s.Responsible {
				ids = append(ids, strconv.FormatInt(u.ID, 10))
			}
			sort.Strings(ids)
			r.Warnings = append(r.Warnings, Warning{Kind: NoResponsible, Group: gp,
				Key: fmt.Sprintf("no_responsible:g%d:%s", g.ID, strings.Join(ids, ","))})
		}
		r.Groups = append(r.Groups, s)
	}
	due, err := st.OpenCasesDue(ctx, now)
	if err != nil {
		return nil, err
	}
	for _, c := range due {
		w := Warning{Kind: Overdue, CaseID: c.ID, Since: c.DueAt, Key: fmt.Sprintf("overdue:c%d:%d", c.ID, c.DueAt.Unix())}
		if c.GroupID != nil {
			if w.Group = byID[*c.GroupID]; w.Group == nil {
				continue
			}
		}
		r.Warnings = append(r.Warnings, w)
	}
	reports, err := st.OpenReports(ctx, 1000)
	if err != nil {
		return nil, err
	}
	target := cfg.Target()
	for _, rp := range reports {
		if gr, ok := moderation.GroundByCode(rp.Category); !ok || !gr.Legal {
			continue
		}
		if !target.Status(rp.CreatedAt, now).Overdue {
			continue
		}
		w := Warning{Kind: LegalReport, ReportID: rp.ID, Category: rp.Category, Since: rp.CreatedAt, Key: fmt.Sprintf("legal_report:r%d", rp.ID)}
		if rp.GroupID != nil {
			w.Group = byID[*rp.GroupID]
		}
		r.Warnings = append(r.Warnings, w)
	}
	return r, nil
}

// Lapsed reports whether a group's supervision has lapsed: no
// review of its queue or of the whole queue for longer than the limit.
func Lapsed(ctx context.Context, st *store.Store, cfg Config, g *store.Group) (bool, error) {
	since := g.CreatedAt
	t, err := st.LastQueueReviewFor(ctx, g.ID)
	if err != nil {
		return false, err
	}
	if t != nil && t.After(since) {
		since = *t
	}
	return st.Now().Sub(since) > days(cfg.SupervisionDays), nil
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// Target is the MOD-5 target in use: LegalTarget, or four working hours
// Monday–Friday 08–17 when it is unset.
func (c Config) Target() moderation.Target {
	if c.LegalTarget.Alert > 0 && c.LegalTarget.Hours.End > c.LegalTarget.Hours.Start {
		return c.LegalTarget
	}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	return moderation.Target{Hours: moderation.WorkingHours{Location: loc, Start: 8 * time.Hour, End: 17 * time.Hour}, Alert: 4 * time.Hour}
}

// LegalHours is the target's alert time in whole working hours (rounded
// up), for messages.
func (c Config) LegalHours() int {
	return int(math.Ceil(c.Target().Alert.Hours()))
}
