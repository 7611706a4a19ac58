package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/decisions"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/screening"
	"github.com/torget/torget/internal/store"
)

// The moderation queue and its settings, under /staff/moderation.

func (s *Server) staffModerationRoutes(e *echo.Echo) {
	g := e.Group("/staff/moderation", s.requireUser)
	g.GET("", s.modQueue)
	g.POST("/decide", s.modDecide)
	g.POST("/decisions/:id/confirm", s.modConfirm)
	g.POST("/appeals/:id", s.modAppeal)
	g.POST("/bans/:id/review", s.modReviewBan)
	admin := g.Group("", requireRole(auth.RoleAdmin))
	admin.GET("/rules", s.modRules)
	admin.POST("/rules", s.modSaveRule)
	admin.POST("/rules/:id/retire", s.modRetireRule)
	admin.POST("/rules/proposals/:id/approve", s.modApproveRule)
	admin.POST("/rules/proposals/:id/reject", s.modRejectRule)
	admin.GET("/domains", s.modDomains)
	admin.POST("/domains", s.modSaveDomain)
	admin.POST("/domains/mode", s.modSetMode)
	admin.POST("/domains/:host/remove", s.modRemoveDomain)
}

func (s *Server) moderator(c echo.Context) decisions.Moderator {
	sc := staffFrom(c)
	return decisions.Moderator{ID: sc.user.ID, Name: sc.user.Username}
}

type ruleOption struct {
	ID, Label string
	Selected  bool
}

type reportView struct {
	Category, Comment, Origin string
	At                        time.Time
}

type queueItem struct {
	ID                            int64
	Group, Author, AuthorIRI, URL string
	State                         string
	Received                      time.Time
	Content                       template.HTML
	Summary                       string
	Matches                       []moderation.Match
	Reports                       []reportView
	Rules                         []ruleOption
	Target                        *targetView // a report in a legal category (MOD-5)
}

// targetView is where a legal report stands against the time target.
type targetView struct {
	Reported, Due, AlertAt time.Time
	Elapsed                string // working time since the report
	Overdue                bool
}

// banReview is a ban that reached its review date (GOV-4).
type banReview struct {
	ID                              int64
	Group, Author, Rule, Reason, By string
	Since, ReviewAt                 time.Time
	Until                           *time.Time
}

type pendingBan struct {
	ID                          int64
	Group, Author, Rule, Reason string
	By                          string
	Until                       time.Time
	Mine                        bool
}

type appealView struct {
	ID                             int64
	Action, Rule, Author, Text, By string
	DecidedAt, At                  time.Time
	Mine                           bool
}

type otherReport struct {
	Object, Category, Comment, Origin string
	At                                time.Time
}

type queuePage struct {
	page
	Items   []queueItem
	Bans    []pendingBan
	Reviews []banReview
	Appeals []appealView
	Target  string // the legal time target, in words
	Reports []otherReport
	Error   string
	Notice  string
	Rules   []ruleOption // for bulk actions: instance rules
}

func (s *Server) rulesFor(c echo.Context, groupID int64, selected string) ([]ruleOption, error) {
	e, err := s.opt.Moderation.Screener().Engine(c.Request().Context(), groupID)
	if err != nil {
		return nil, err
	}
	var out []ruleOption
	for _, r := range e.Rules() {
		out = append(out, ruleOption{ID: r.ID, Label: fmt.Sprintf("%s – %s", r.ID, r.Text), Selected: r.ID == selected})
	}
	return out, nil
}

// modQueue lists what waits for a moderator: held items and reported
// items with the rules that matched and why, bans waiting for a second
// moderator, and appeals.
func (s *Server) modQueue(c echo.Context) error {
	return s.renderQueue(c, http.StatusOK, "", c.QueryParam("done"))
}

func (s *Server) renderQueue(c echo.Context, code int, errMsg, notice string) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	l := s.tr(c)
	v := queuePage{page: s.staffPage(c, l.T("staff.mod.queue.heading")), Error: errMsg}
	if notice != "" {
		v.Notice = l.T("staff.mod.done", "What", notice)
	}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return err
	}
	mine := map[int64]store.Group{}
	for _, g := range gs {
		ok, err := s.st.CanModerate(ctx, sc.user, g.ID)
		if err != nil {
			return err
		}
		if ok {
			mine[g.ID] = g
		}
	}
	if len(mine) == 0 {
		return echo.NewHTTPError(http.StatusForbidden, "you moderate no group")
	}
	reports, err := s.st.OpenReports(ctx, 200)
	if err != nil {
		return err
	}
	byObject := map[string][]store.ModReport{}
	legalSince := map[string]time.Time{} // earliest legal report per item
	for _, r := range reports {
		byObject[r.ObjectIRI] = append(byObject[r.ObjectIRI], r)
		if g, ok := moderation.GroundByCode(r.Category); ok && g.Legal {
			if t, seen := legalSince[r.ObjectIRI]; !seen || r.CreatedAt.Before(t) {
				legalSince[r.ObjectIRI] = r.CreatedAt
			}
		}
	}
	target := s.legalTarget()
	now := s.st.Now()
	v.Target = l.T("staff.mod.target.rule", "Hours", hoursText(target.Alert))
	seen := map[int64]bool{}
	add := func(n store.RemoteNote) error {
		g, ok := mine[n.GroupID]
		if !ok || seen[n.ID] {
			return nil
		}
		seen[n.ID] = true
		it := queueItem{ID: n.ID, Group: g.Name, AuthorIRI: n.AuthorIRI, Author: n.AuthorIRI, URL: firstNonEmptyStr(n.URL, n.IRI), State: n.State,
			Received: n.CreatedAt, Content: template.HTML(n.ContentHTML), Summary: n.Summary} // sanitised when stored
		if a, err := s.st.RemoteActorByIRI(ctx, n.AuthorIRI); err == nil && a.PreferredUsername != "" {
			it.Author = "@" + a.PreferredUsername + "@" + a.Host
		}
		_ = json.Unmarshal([]byte(n.Matches), &it.Matches)
		for _, r := range byObject[n.IRI] {
			it.Reports = append(it.Reports, reportView{Category: r.Category, Comment: r.Comment, Origin: r.Origin, At: r.CreatedAt})
		}
		if at, ok := legalSince[n.IRI]; ok {
			st := target.Status(at, now)
			it.Target = &targetView{Reported: at, Due: st.Due, AlertAt: st.AlertAt, Elapsed: hoursText(st.Elapsed), Overdue: st.Overdue}
		}
		delete(byObject, n.IRI)
		sel := ""
		if len(it.Matches) > 0 {
			sel = it.Matches[0].RuleID
		}
		rules, err := s.rulesFor(c, n.GroupID, sel)
		if err != nil {
			return err
		}
		it.Rules = rules
		v.Items = append(v.Items, it)
		return nil
	}
	// Reported items first: legal categories are the most urgent (MOD-5).
	for _, r := range reports {
		if g, ok := moderation.GroundByCode(r.Category); !ok || !g.Legal {
			continue
		}
		if n, err := s.st.RemoteNoteByIRI(ctx, r.ObjectIRI); err == nil {
			if err := add(*n); err != nil {
				return err
			}
		}
	}
	for _, r := range reports {
		if n, err := s.st.RemoteNoteByIRI(ctx, r.ObjectIRI); err == nil {
			if err := add(*n); err != nil {
				return err
			}
		}
	}
	var held []store.RemoteNote
	for id := range mine {
		ns, err := s.st.GroupNotes(ctx, id, []string{store.NoteHeld}, 0, 100)
		if err != nil {
			return err
		}
		held = append(held, ns...)
	}
	sort.Slice(held, func(i, j int) bool { return held[i].ID < held[j].ID }) // oldest first
	for _, n := range held {
		if err := add(n); err != nil {
			return err
		}
	}
	for obj, rs := range byObject {
		for _, r := range rs {
			if r.GroupID != nil {
				if _, ok := mine[*r.GroupID]; !ok {
					continue
				}
			}
			v.Reports = append(v.Reports, otherReport{Object: obj, Category: r.Category, Comment: r.Comment, Origin: r.Origin, At: r.CreatedAt})
		}
	}
	pending, err := s.st.Decisions(ctx, store.DecisionFilter{State: store.DecisionPending, Limit: 100})
	if err != nil {
		return err
	}
	// myGroup is the decision's group when it is one of the moderator's.
	myGroup := func(d store.ModDecision) (store.Group, bool) {
		if d.GroupID == nil {
			return store.Group{}, false
		}
		g, ok := mine[*d.GroupID]
		return g, ok
	}
	for _, d := range pending {
		g, ok := myGroup(d)
		if !ok {
			continue
		}
		b := pendingBan{ID: d.ID, Group: g.Name, Author: firstNonEmptyStr(d.AuthorHandle, d.AuthorIRI), Rule: d.RuleID, Reason: d.Reason,
			By: d.ModeratorName, Mine: d.ModeratorID != nil && *d.ModeratorID == sc.user.ID}
		if d.EndsAt != nil {
			b.Until = *d.EndsAt
		}
		v.Bans = append(v.Bans, b)
	}
	due, err := s.st.BansDueForReview(ctx, now)
	if err != nil {
		return err
	}
	for _, d := range due {
		g, ok := myGroup(d)
		if !ok {
			continue
		}
		r := banReview{ID: d.ID, Group: g.Name, Author: firstNonEmptyStr(d.AuthorHandle, d.AuthorIRI), Rule: d.RuleID, Reason: d.Reason,
			By: d.ModeratorName, Since: d.CreatedAt, ReviewAt: *d.ReviewAt, Until: d.EndsAt}
		if d.EffectiveAt != nil {
			r.Since = *d.EffectiveAt
		}
		v.Reviews = append(v.Reviews, r)
	}
	appeals, err := s.st.OpenAppeals(ctx)
	if err != nil {
		return err
	}
	for _, a := range appeals {
		d, err := s.st.Decision(ctx, a.DecisionID)
		if err != nil {
			return err
		}
		if d.GroupID != nil {
			if _, ok := mine[*d.GroupID]; !ok {
				continue
			}
		}
		v.Appeals = append(v.Appeals, appealView{ID: a.ID, Action: actionLabel(l, d.Action), Rule: d.RuleID, Author: firstNonEmptyStr(d.AuthorHandle, d.AuthorIRI),
			Text: a.Text, By: d.ModeratorName, DecidedAt: d.CreatedAt, At: a.CreatedAt, Mine: d.ModeratorID != nil && *d.ModeratorID == sc.user.ID})
	}
	if v.Rules, err = s.rulesFor(c, 0, ""); err != nil {
		return err
	}
	// The queue's keyboard shortcuts: our own script file, nothing inline.
	c.Response().Header().Set("Content-Security-Policy", strings.Replace(csp, "default-src 'none';", "default-src 'none'; script-src 'self';", 1))
	return s.render(c, code, "staff_moderation.html", v)
}

// modDecide applies one action to one or more items (bulk).
func (s *Server) modDecide(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	l := s.tr(c)
	action := c.FormValue("action")
	in := decisions.Input{Action: action, RuleID: c.FormValue("rule"), Reason: c.FormValue("reason")}
	if action == decisions.Ban {
		for field, dst := range map[string]*time.Duration{"ban_days": &in.BanFor, "review_days": &in.ReviewIn} {
			if d := c.FormValue(field); d != "" {
				n, err := strconv.Atoi(d)
				if err != nil || n < 1 {
					return s.renderQueue(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.ban_days"), "")
				}
				*dst = time.Duration(n) * 24 * time.Hour
			}
		}
	}
	ids := form["note_id"]
	if len(ids) == 0 {
		return s.renderQueue(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.no_items"), "")
	}
	done := 0
	for _, raw := range ids {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "bad note id")
		}
		n, err := s.st.RemoteNoteByID(ctx, id)
		if err != nil {
			return err
		}
		ok, err := s.st.CanModerate(ctx, sc.user, n.GroupID)
		if err != nil {
			return err
		}
		if !ok {
			return echo.NewHTTPError(http.StatusForbidden, "you do not moderate this group")
		}
		one := in
		one.NoteID = id
		d, err := s.opt.Moderation.Decide(ctx, s.moderator(c), one)
		if err != nil {
			switch {
			case errors.Is(err, decisions.ErrInvalid):
				return s.renderQueue(c, http.StatusUnprocessableEntity, decisionError(l, err), "")
			case errors.Is(err, decisions.ErrForbidden):
				return echo.NewHTTPError(http.StatusForbidden, err.Error())
			}
			return err
		}
		// On request, the author's server is told too (an outgoing Flag).
		if action == decisions.Remove && c.FormValue("flag") == "1" {
			if _, err := s.opt.Moderation.ReportToAuthorServer(ctx, s.moderator(c), d.ID); err != nil {
				return err
			}
		}
		done++
	}
	notice := l.T("staff.mod.done.decided", "Action", actionLabel(l, action), "Count", done)
	if action == decisions.Ban {
		notice = l.T("staff.mod.done.ban_proposed")
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation?done="+url.QueryEscape(notice))
}

// decisionError explains why decisions refused a decision.
func decisionError(l *i18n.Localizer, err error) string {
	m := err.Error()
	switch {
	case strings.Contains(m, "cite a rule"), strings.Contains(m, "no rule"):
		return l.T("staff.mod.error.rule")
	case strings.Contains(m, "facts"):
		return l.T("staff.mod.error.reason")
	case errors.Is(err, decisions.ErrNoWarning):
		return l.T("staff.mod.error.no_warning")
	case strings.Contains(m, "length or a review"):
		return l.T("staff.mod.error.ban_length")
	case strings.Contains(m, "next review"):
		return l.T("staff.mod.error.next_review")
	}
	return l.T("staff.mod.error.failed", "Reason", m)
}

func (s *Server) modConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	d, err := s.st.Decision(ctx, id)
	if err != nil {
		return err
	}
	if err := s.mayModerateDecision(c, d); err != nil {
		return err
	}
	if _, err := s.opt.Moderation.Confirm(ctx, s.moderator(c), id); err != nil {
		if errors.Is(err, decisions.ErrForbidden) {
			return s.renderQueue(c, http.StatusForbidden, s.tr(c).T("staff.mod.error.confirm_own"), "")
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation?done="+url.QueryEscape(s.tr(c).T("staff.mod.done.ban_confirmed")))
}

func (s *Server) modAppeal(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	a, err := s.st.Appeal(ctx, id)
	if err != nil {
		return err
	}
	d, err := s.st.Decision(ctx, a.DecisionID)
	if err != nil {
		return err
	}
	if err := s.mayModerateDecision(c, d); err != nil {
		return err
	}
	_, err = s.opt.Moderation.DecideAppeal(ctx, s.moderator(c), id, c.FormValue("outcome") == "reverse", c.FormValue("reason"))
	switch {
	case errors.Is(err, decisions.ErrForbidden):
		return s.renderQueue(c, http.StatusForbidden, s.tr(c).T("staff.mod.error.appeal_own"), "")
	case errors.Is(err, decisions.ErrInvalid):
		return s.renderQueue(c, http.StatusUnprocessableEntity, s.tr(c).T("staff.mod.error.appeal_reason"), "")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation?done="+url.QueryEscape(s.tr(c).T("staff.mod.done.appeal_decided")))
}

type rulesAdminPage struct {
	page
	Notice    string
	Proposals []proposalView
	Rules     []ruleView
	Groups    []store.Group
	Kinds     []moderation.Kind
	Grounds   []moderation.Ground
	Error     string
	Form      ruleForm
}

type ruleForm struct {
	ID, Kind, Text, Action, Ground, Pattern, Limit, Window, Group, Justification string
}

// proposalView is a rule proposal waiting for a second administrator.
type proposalView struct {
	RowID         int64
	Rule          ruleView
	Justification string
	By            string
	Mine          bool
}

func (s *Server) modRules(c echo.Context) error {
	return s.renderRules(c, http.StatusOK, "", ruleForm{Kind: "manual", Action: "hide"})
}

func (s *Server) renderRules(c echo.Context, code int, errMsg string, f ruleForm) error {
	ctx := c.Request().Context()
	l := s.tr(c)
	v := rulesAdminPage{page: s.staffPage(c, l.T("staff.mod.rules.heading")), Kinds: moderation.Kinds, Grounds: localGrounds(l), Error: errMsg, Form: f}
	rs, err := s.st.AllCurrentRules(ctx)
	if err != nil {
		return err
	}
	for _, r := range rs {
		v.Rules = append(v.Rules, s.ruleView(ctx, l, r))
	}
	ps, err := s.st.ProposedRules(ctx)
	if err != nil {
		return err
	}
	me := staffFrom(c).user.ID
	for _, p := range ps {
		v.Proposals = append(v.Proposals, proposalView{RowID: p.ID, Rule: s.ruleView(ctx, l, p), Justification: p.Justification,
			By: p.CreatedBy, Mine: p.CreatedByID != nil && *p.CreatedByID == me})
	}
	switch c.QueryParam("done") {
	case "proposed":
		v.Notice = l.T("staff.mod.rules.done.proposed")
	case "approved":
		v.Notice = l.T("staff.mod.rules.done.approved")
	case "rejected":
		v.Notice = l.T("staff.mod.rules.done.rejected")
	}
	if v.Groups, err = s.st.ListGroups(ctx); err != nil {
		return err
	}
	return s.render(c, code, "staff_mod_rules.html", v)
}

// modSaveRule proposes a rule or a new version of one (same id). It is not
// in force until a second administrator approves it (GOV-3).
func (s *Server) modSaveRule(c echo.Context) error {
	ctx := c.Request().Context()
	l := s.tr(c)
	f := ruleForm{ID: strings.TrimSpace(c.FormValue("id")), Kind: c.FormValue("kind"), Text: strings.TrimSpace(c.FormValue("text")),
		Action: c.FormValue("rule_action"), Ground: c.FormValue("ground"), Pattern: c.FormValue("pattern"),
		Limit: c.FormValue("limit"), Window: c.FormValue("window"), Group: c.FormValue("group"), Justification: c.FormValue("justification")}
	r := moderation.Rule{ID: f.ID, Kind: moderation.Kind(f.Kind), Text: f.Text, Action: moderation.Action(f.Action),
		LegalGround: f.Ground, Pattern: f.Pattern}
	if f.Limit != "" {
		n, err := strconv.Atoi(f.Limit)
		if err != nil {
			return s.renderRules(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.limit"), f)
		}
		r.Limit = n
	}
	if f.Window != "" {
		w, err := time.ParseDuration(f.Window)
		if err != nil {
			return s.renderRules(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.window"), f)
		}
		r.Window = w
	}
	p := decisions.Proposal{Rule: r, Justification: f.Justification}
	if f.Group != "" {
		g, err := s.fed.Group(ctx, f.Group)
		if err != nil {
			return s.renderRules(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.unknown_group"), f)
		}
		p.GroupID = &g.ID
	}
	if _, err := s.opt.Moderation.ProposeRule(ctx, s.moderator(c), p); err != nil {
		switch {
		case errors.Is(err, decisions.ErrJustification):
			return s.renderRules(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.justification"), f)
		case errors.Is(err, decisions.ErrInvalid):
			return s.renderRules(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.rule_not_saved", "Reason", strings.TrimPrefix(err.Error(), decisions.ErrInvalid.Error()+": ")), f)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation/rules?done=proposed")
}

// modApproveRule puts a proposal in force; the proposer may not (GOV-3).
func (s *Server) modApproveRule(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	l := s.tr(c)
	_, err = s.opt.Moderation.ApproveRule(c.Request().Context(), s.moderator(c), id)
	switch {
	case errors.Is(err, decisions.ErrSameAdmin):
		return s.renderRules(c, http.StatusForbidden, l.T("staff.mod.error.approve_own"), ruleForm{Kind: "manual", Action: "hide"})
	case errors.Is(err, decisions.ErrInvalid):
		return s.renderRules(c, http.StatusConflict, l.T("staff.mod.error.not_proposed"), ruleForm{Kind: "manual", Action: "hide"})
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation/rules?done=approved")
}

// modRejectRule turns a proposal down (or lets its proposer withdraw it).
func (s *Server) modRejectRule(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	l := s.tr(c)
	_, err = s.opt.Moderation.RejectRule(c.Request().Context(), s.moderator(c), id, c.FormValue("reason"))
	switch {
	case errors.Is(err, decisions.ErrInvalid):
		return s.renderRules(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.reject_reason"), ruleForm{Kind: "manual", Action: "hide"})
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation/rules?done=rejected")
}

func (s *Server) modRetireRule(c echo.Context) error {
	if err := s.st.RetireRule(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	s.opt.Moderation.Screener().Invalidate()
	if err := s.audit(c, staffFrom(c).user, "", "rule_retire", c.Param("id"), ""); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation/rules")
}

type domainsAdminPage struct {
	page
	Allowlist bool
	Domains   []domainView
	Rules     []ruleOption
	Error     string
}

func (s *Server) modDomains(c echo.Context) error {
	return s.renderDomains(c, http.StatusOK, "")
}

func (s *Server) renderDomains(c echo.Context, code int, errMsg string) error {
	ctx := c.Request().Context()
	l := s.tr(c)
	v := domainsAdminPage{page: s.staffPage(c, l.T("staff.mod.domains.heading")), Error: errMsg}
	mode, err := s.st.Setting(ctx, screening.SettingFederationMode)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	v.Allowlist = mode == screening.ModeAllowlist
	ps, err := s.st.DomainPolicies(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		v.Domains = append(v.Domains, domainView{Host: p.Host, Policy: policyLabel(l, p.Policy), Reason: p.Reason, Since: p.UpdatedAt})
	}
	if v.Rules, err = s.rulesFor(c, 0, ""); err != nil {
		return err
	}
	return s.render(c, code, "staff_mod_domains.html", v)
}

// modSaveDomain sets a domain's policy. Refusing a domain is a decision
// (defederate) citing a rule; the other policies are settings, audited.
func (s *Server) modSaveDomain(c echo.Context) error {
	ctx := c.Request().Context()
	host := strings.ToLower(strings.TrimSpace(c.FormValue("host")))
	policy, reason := c.FormValue("policy"), strings.TrimSpace(c.FormValue("reason"))
	if host == "" || strings.ContainsAny(host, "/ @:") || reason == "" {
		return s.renderDomains(c, http.StatusUnprocessableEntity, s.tr(c).T("staff.mod.error.domain"))
	}
	switch policy {
	case store.DomainReject:
		_, err := s.opt.Moderation.Decide(ctx, s.moderator(c), decisions.Input{Action: decisions.Defederate, Host: host, RuleID: c.FormValue("rule"), Reason: reason})
		if errors.Is(err, decisions.ErrInvalid) {
			return s.renderDomains(c, http.StatusUnprocessableEntity, decisionError(s.tr(c), err))
		}
		if err != nil {
			return err
		}
	case store.DomainHold, store.DomainNoMedia, store.DomainAllow:
		if err := s.st.SetDomainPolicy(ctx, &store.DomainPolicy{Host: host, Policy: policy, Reason: reason, CreatedBy: staffFrom(c).user.Username}); err != nil {
			return err
		}
		if err := s.audit(c, staffFrom(c).user, "", "domain_policy", host, policy+": "+reason); err != nil {
			return err
		}
	default:
		return s.renderDomains(c, http.StatusUnprocessableEntity, s.tr(c).T("staff.mod.error.policy"))
	}
	s.opt.Moderation.Screener().Invalidate()
	return c.Redirect(http.StatusSeeOther, "/staff/moderation/domains")
}

func (s *Server) modSetMode(c echo.Context) error {
	mode := c.FormValue("mode")
	if mode != screening.ModeAllowlist && mode != screening.ModeDenylist {
		return s.renderDomains(c, http.StatusUnprocessableEntity, s.tr(c).T("staff.mod.error.mode"))
	}
	if err := s.st.SetSetting(c.Request().Context(), screening.SettingFederationMode, mode); err != nil {
		return err
	}
	s.opt.Moderation.Screener().Invalidate()
	if err := s.audit(c, staffFrom(c).user, "", "federation_mode", mode, ""); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation/domains")
}

func (s *Server) modRemoveDomain(c echo.Context) error {
	host := c.Param("host")
	if err := s.st.DeleteDomainPolicy(c.Request().Context(), host); err != nil {
		return err
	}
	s.opt.Moderation.Screener().Invalidate()
	if err := s.audit(c, staffFrom(c).user, "", "domain_policy_remove", host, ""); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation/domains")
}

// mayModerateDecision refuses staff who do not moderate the group a
// decision concerns (instance-wide decisions are for every moderator).
func (s *Server) mayModerateDecision(c echo.Context, d *store.ModDecision) error {
	if d.GroupID == nil {
		return nil
	}
	ok, err := s.st.CanModerate(c.Request().Context(), staffFrom(c).user, *d.GroupID)
	if err != nil {
		return err
	}
	if !ok {
		return echo.NewHTTPError(http.StatusForbidden, "you do not moderate this group")
	}
	return nil
}

// modReviewBan is the review of a ban that reached its review date: keep
// it (with a next review date unless it has an end) or lift it (GOV-4).
func (s *Server) modReviewBan(c echo.Context) error {
	ctx := c.Request().Context()
	l := s.tr(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	d, err := s.st.Decision(ctx, id)
	if err != nil {
		return err
	}
	if err := s.mayModerateDecision(c, d); err != nil {
		return err
	}
	var next time.Duration
	if v := c.FormValue("review_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s.renderQueue(c, http.StatusUnprocessableEntity, l.T("staff.mod.error.ban_days"), "")
		}
		next = time.Duration(n) * 24 * time.Hour
	}
	lift := c.FormValue("outcome") == "lift"
	if _, err := s.opt.Moderation.ReviewBan(ctx, s.moderator(c), id, lift, next, c.FormValue("reason")); err != nil {
		if errors.Is(err, decisions.ErrInvalid) {
			return s.renderQueue(c, http.StatusUnprocessableEntity, decisionError(l, err), "")
		}
		return err
	}
	notice := l.T("staff.mod.done.ban_kept")
	if lift {
		notice = l.T("staff.mod.done.ban_lifted")
	}
	return c.Redirect(http.StatusSeeOther, "/staff/moderation?done="+url.QueryEscape(notice))
}

// legalTarget is the configured time target for legal reports (MOD-5).
func (s *Server) legalTarget() moderation.Target {
	t := s.opt.LegalTarget
	if t.Alert <= 0 {
		t.Alert = 4 * time.Hour
	}
	if t.Hours.Location == nil {
		loc := s.opt.TimeZone
		if loc == nil {
			loc = time.UTC
		}
		t.Hours = moderation.WorkingHours{Location: loc, Start: 8 * time.Hour, End: 17 * time.Hour}
	}
	return t
}

// hoursText writes a working-time duration as hours and minutes (h:mm),
// the same in every language.
func hoursText(d time.Duration) string {
	d = d.Round(time.Minute)
	return fmt.Sprintf("%d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
