package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/decisions"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/store"
)

// Public moderation pages: the rules in force with their history, the
// federation limits, the moderation log (HTML, JSON, RSS), the report form
// and the appeal form. The log never shows removed text (GOV-6).

func (s *Server) moderationRoutes(e *echo.Echo) {
	if s.opt.Moderation == nil {
		return
	}
	e.GET("/about/rules", s.rulesPage)
	e.GET("/about/federation", s.federationPage)
	e.GET("/moderation", s.modLog)
	e.GET("/moderation.json", s.modLog)
	e.GET("/moderation.rss", s.modLog)
	e.GET("/groups/:slug/moderation", s.modLog)
	e.GET("/groups/:slug/moderation.json", s.modLog)
	e.GET("/groups/:slug/moderation.rss", s.modLog)
	e.GET("/report", s.reportForm)
	e.POST("/report", s.report)
	e.GET("/moderation/appeal/:token", s.appealForm)
	e.POST("/moderation/appeal/:token", s.appeal)
	s.staffModerationRoutes(e)
}

// publicFormRoutes are public forms that store something: they carry the
// double-submit token of the sign-in form (no session needed).
var publicFormRoutes = map[string]bool{"/report": true, "/moderation/appeal/:token": true}

type ruleView struct {
	ID, Kind, Text, Action, Ground, Statute, Scope string
	Legal                                          bool
	Version                                        int
	Since                                          time.Time
	Retired                                        *time.Time
}

func (s *Server) ruleView(ctx context.Context, l *i18n.Localizer, r store.ModRule) ruleView {
	g, _ := moderation.GroundByCode(r.LegalGround)
	kind := r.Kind
	if id, ok := kindLabels[r.Kind]; ok {
		kind = l.T(id)
	}
	v := ruleView{ID: r.RuleID, Kind: kind, Text: r.Text, Action: actionLabel(l, r.Action), Ground: groundLabel(l, g), Statute: g.Statute,
		Legal: g.Legal, Version: r.Version, Since: r.CreatedAt, Retired: r.RetiredAt, Scope: l.T("mod.rules.scope_all")}
	if sv, ok := moderation.BuiltinText(r.RuleID); ok && r.Text == sv {
		if id, ok := builtinRuleTexts[r.RuleID]; ok {
			v.Text = l.T(id) // an unchanged built-in rule, in the visitor's language
		}
	}
	if r.Status == store.RuleApproved && r.DecidedAt != nil {
		v.Since = *r.DecidedAt // in force since it was approved (GOV-3)
	}
	if r.GroupID != nil {
		if gr, err := s.st.GroupByID(ctx, *r.GroupID); err == nil {
			v.Scope = gr.Name
		}
	}
	return v
}

// kindLabels names each rule kind (message ids).
var kindLabels = map[string]string{
	"manual": msg("mod.kind.manual"), "words": msg("mod.kind.words"), "regex": msg("mod.kind.regex"),
	"link_domain": msg("mod.kind.link_domain"), "max_links": msg("mod.kind.max_links"), "max_mentions": msg("mod.kind.max_mentions"),
	"rate_author": msg("mod.kind.rate_author"), "rate_server": msg("mod.kind.rate_server"),
	"first_post": msg("mod.kind.first_post"), "media": msg("mod.kind.media"),
}

// builtinRuleTexts are the built-in rules' texts (message ids), keyed by
// rule id; the Swedish entries equal moderation.BuiltinText.
var builtinRuleTexts = map[string]string{
	"olaga-hot": msg("mod.builtin.olaga-hot"), "olaga-integritetsintrang": msg("mod.builtin.olaga-integritetsintrang"),
	"uppvigling": msg("mod.builtin.uppvigling"), "hets-mot-folkgrupp": msg("mod.builtin.hets-mot-folkgrupp"),
	"barnpornografibrott": msg("mod.builtin.barnpornografibrott"), "olaga-valdsskildring": msg("mod.builtin.olaga-valdsskildring"),
	"terrorism": msg("mod.builtin.terrorism"), "upphovsratt": msg("mod.builtin.upphovsratt"),
	"personuppgifter": msg("mod.builtin.personuppgifter"), "villkor-spam": msg("mod.builtin.villkor-spam"),
	"villkor-amne": msg("mod.builtin.villkor-amne"), "villkor-trakasserier": msg("mod.builtin.villkor-trakasserier"),
	"villkor-sakerhet": msg("mod.builtin.villkor-sakerhet"),
}

// groundLabels names each legal ground of moderation.Grounds (message ids).
var groundLabels = map[string]string{
	"olaga-hot": msg("mod.ground.olaga-hot"), "olaga-integritetsintrang": msg("mod.ground.olaga-integritetsintrang"),
	"uppvigling": msg("mod.ground.uppvigling"), "hets-mot-folkgrupp": msg("mod.ground.hets-mot-folkgrupp"),
	"barnpornografibrott": msg("mod.ground.barnpornografibrott"), "olaga-valdsskildring": msg("mod.ground.olaga-valdsskildring"),
	"terrorism": msg("mod.ground.terrorism"), "upphovsratt": msg("mod.ground.upphovsratt"),
	"personuppgifter": msg("mod.ground.personuppgifter"), "villkor-spam": msg("mod.ground.villkor-spam"),
	"villkor-amne": msg("mod.ground.villkor-amne"), "villkor-trakasserier": msg("mod.ground.villkor-trakasserier"),
	"villkor-sakerhet": msg("mod.ground.villkor-sakerhet"),
}

// groundLabel names a ground in the visitor's language (the package's
// Swedish label for a ground the catalogue does not know).
func groundLabel(l *i18n.Localizer, g moderation.Ground) string {
	if id, ok := groundLabels[g.Code]; ok {
		return l.T(id)
	}
	return g.Label
}

// localGrounds is moderation.Grounds with labels in the visitor's language.
func localGrounds(l *i18n.Localizer) []moderation.Ground {
	out := make([]moderation.Ground, len(moderation.Grounds))
	for i, g := range moderation.Grounds {
		g.Label = groundLabel(l, g)
		out[i] = g
	}
	return out
}

// actionLabel names a rule's automatic action or a decision (literal ids,
// so the catalogue check sees every one).
func actionLabel(l *i18n.Localizer, a string) string {
	switch a {
	case "hold":
		return l.T("mod.rule_action.hold")
	case "hide":
		return l.T("mod.rule_action.hide")
	case "reject":
		return l.T("mod.rule_action.reject")
	case decisions.Approve:
		return l.T("mod.action.approve")
	case decisions.Remove:
		return l.T("mod.action.remove")
	case decisions.Warn:
		return l.T("mod.action.warn")
	case decisions.Ban:
		return l.T("mod.action.ban")
	case decisions.Defederate:
		return l.T("mod.action.defederate")
	case decisions.Restore:
		return l.T("mod.action.restore")
	case decisions.Unban:
		return l.T("mod.action.unban")
	case decisions.BanReview:
		return l.T("mod.action.ban_review")
	case "appeal_upheld":
		return l.T("mod.action.appeal_upheld")
	}
	return a
}

// logActionLabel names a decision in the moderation log: as actionLabel,
// except that a hidden item reads as a decision, not a rule's action.
func logActionLabel(l *i18n.Localizer, action string) string {
	if action == decisions.Hide {
		return l.T("mod.action.hide")
	}
	return actionLabel(l, action)
}

type monthCount struct {
	Month, RuleID string
	N             int64
}

// legalMonth is the time to decision for reports in the legal categories
// decided in one month, in working hours (MOD-5).
type legalMonth struct {
	Month       string
	N, Overdue  int
	Median, Max string
}

type rulesPage struct {
	page
	LegalTimes []legalMonth
	Intro      template.HTML // the administrator's text (torget about set rules), if any
	Current    []ruleView
	History    []ruleView
	Counts     []monthCount
	Grounds    []moderation.Ground
}

// rulesPage is /about/rules: every rule in force (instance and groups),
// older versions, the legal grounds, and how often each rule was applied
// per month.
func (s *Server) rulesPage(c echo.Context) error {
	ctx := c.Request().Context()
	l := s.tr(c)
	v := rulesPage{page: s.page(c, l.T("mod.rules.heading"), ""), Grounds: localGrounds(l)}
	if key, ok := AboutSettingKey("rules"); ok {
		if src, err := s.st.Setting(ctx, key); err == nil {
			r, err := s.aboutMarkup.Render(src)
			if err != nil {
				return err
			}
			v.Intro = template.HTML(demoteH1(r.HTML)) // sanitised by Render
		}
	}
	cur, err := s.st.AllCurrentRules(ctx)
	if err != nil {
		return err
	}
	for _, r := range cur {
		v.Current = append(v.Current, s.ruleView(ctx, l, r))
	}
	hist, err := s.st.RuleHistory(ctx, 0)
	if err != nil {
		return err
	}
	for _, r := range hist {
		if r.RetiredAt != nil {
			v.History = append(v.History, s.ruleView(ctx, l, r))
		}
	}
	counts, err := s.st.DecisionCountsByRuleMonth(ctx, s.st.Now().AddDate(-1, 0, 0))
	if err != nil {
		return err
	}
	for _, k := range counts {
		v.Counts = append(v.Counts, monthCount{Month: k.Month, RuleID: k.RuleID, N: k.N})
	}
	if v.LegalTimes, err = s.legalTimes(ctx); err != nil {
		return err
	}
	sort.Slice(v.Counts, func(i, j int) bool {
		if v.Counts[i].Month != v.Counts[j].Month {
			return v.Counts[i].Month > v.Counts[j].Month
		}
		return v.Counts[i].RuleID < v.Counts[j].RuleID
	})
	return s.render(c, http.StatusOK, "rules.html", v)
}

type domainView struct {
	Host, Policy, Reason string
	Since                time.Time
}

type federationPage struct {
	page
	Allowlist bool
	Domains   []domainView
}

// policyLabels names each domain policy (message ids).
var policyLabels = map[string]string{store.DomainReject: msg("mod.policy.reject"), store.DomainHold: msg("mod.policy.hold"),
	store.DomainNoMedia: msg("mod.policy.no_media"), store.DomainAllow: msg("mod.policy.allow")}

func policyLabel(l *i18n.Localizer, p string) string {
	if id, ok := policyLabels[p]; ok {
		return l.T(id)
	}
	return p
}

// federationPage is /about/federation: the servers we limit or refuse, with
// the reason and date (FED-2).
func (s *Server) federationPage(c echo.Context) error {
	ctx := c.Request().Context()
	l := s.tr(c)
	v := federationPage{page: s.page(c, l.T("mod.federation.heading"), "")}
	mode, err := s.st.Setting(ctx, "moderation.federation_mode")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	v.Allowlist = mode == "allowlist"
	ps, err := s.st.DomainPolicies(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		v.Domains = append(v.Domains, domainView{Host: p.Host, Policy: policyLabel(l, p.Policy), Reason: p.Reason, Since: p.UpdatedAt})
	}
	return s.render(c, http.StatusOK, "federation.html", v)
}

// logEntry is one public log row: never the removed text (GOV-6).
type logEntry struct {
	ID          int64      `json:"id"`
	Date        time.Time  `json:"date"`
	Group       string     `json:"group,omitempty"`
	GroupURL    string     `json:"group_url,omitempty"`
	Action      string     `json:"action"`
	ActionLabel string     `json:"-"`
	Rule        string     `json:"rule,omitempty"`
	RuleVersion int        `json:"rule_version,omitempty"`
	RuleText    string     `json:"rule_text,omitempty"`
	Ground      string     `json:"legal_ground,omitempty"`
	Author      string     `json:"author,omitempty"`
	Server      string     `json:"server,omitempty"`
	Automatic   bool       `json:"automatic"`
	Until       *time.Time `json:"until,omitempty"`
}

type modLogPage struct {
	page
	Heading string
	Group   *store.Group
	Entries []logEntry
	Older   string
}

const modLogPageSize = 50

// modLog serves the public moderation log of the instance or one group as
// HTML, JSON (.json) or RSS (.rss).
func (s *Server) modLog(c echo.Context) error {
	ctx := c.Request().Context()
	f := store.DecisionFilter{Actions: decisions.PublicActions, State: store.DecisionEffective, Limit: modLogPageSize}
	var g *store.Group
	base := "/moderation"
	if slug := c.Param("slug"); slug != "" {
		gr, err := s.fed.Group(ctx, slug)
		if err != nil {
			return err
		}
		g, f.GroupID, base = gr, gr.ID, "/groups/"+gr.Slug+"/moderation"
	}
	if b := c.QueryParam("before"); b != "" {
		if _, err := fmt.Sscan(b, &f.BeforeID); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "before must be a number")
		}
	}
	ds, err := s.st.Decisions(ctx, f)
	if err != nil {
		return err
	}
	l := s.tr(c)
	rules, err := s.st.PublicViewRules(ctx)
	if err != nil {
		return err
	}
	groups := map[int64]*store.Group{}
	var entries []logEntry
	for _, d := range ds {
		e := logEntry{ID: d.ID, Date: d.CreatedAt.UTC(), Action: d.Action, ActionLabel: logActionLabel(l, d.Action), Rule: d.RuleID,
			RuleVersion: d.RuleVersion, Automatic: d.Automatic, Until: d.EndsAt}
		if d.Action == decisions.Defederate {
			e.Server = d.ObjectIRI
		} else {
			e.Author = decisions.PublicHandle(d.AuthorHandle, d.AuthorIRI)
			if r, ok := rules[d.AuthorIRI]; ok {
				e.Author = l.T("thread.pseudonym", "Code", r.Pseudonym) // an erasure request granted (PRV-5)
			}
		}
		if gr, ok := moderation.GroundByCode(d.LegalGround); ok {
			e.Ground = groundLabel(l, gr) + " (" + gr.Statute + ")"
		}
		if r, err := s.st.RuleVersion(ctx, d.RuleID, d.RuleVersion); err == nil {
			e.RuleText = r.Text
		}
		if d.GroupID != nil {
			gr, ok := groups[*d.GroupID]
			if !ok {
				gr, _ = s.st.GroupByID(ctx, *d.GroupID)
				groups[*d.GroupID] = gr
			}
			if gr != nil {
				e.Group, e.GroupURL = gr.Name, s.u.Group(gr.Slug)
			}
		}
		entries = append(entries, e)
	}
	path := c.Request().URL.Path
	switch {
	case strings.HasSuffix(path, ".json"):
		c.Response().Header().Set("Content-Type", "application/json; charset=utf-8")
		if entries == nil {
			entries = []logEntry{}
		}
		return json.NewEncoder(c.Response()).Encode(map[string]any{"entries": entries})
	case strings.HasSuffix(path, ".rss"):
		return s.modLogRSS(c, l, g, base, entries)
	}
	heading := l.T("mod.log.heading")
	if g != nil {
		heading = l.T("mod.log.heading_group", "Name", g.Name)
	}
	v := modLogPage{page: s.page(c, heading, ""), Heading: heading, Group: g, Entries: entries}
	v.Alternates = append(v.Alternates, alternate{Kind: "rss", Title: heading, Href: s.u.Base + base + ".rss"})
	if len(ds) == modLogPageSize {
		v.Older = fmt.Sprintf("%s?before=%d", base, ds[len(ds)-1].ID)
	}
	return s.render(c, http.StatusOK, "modlog.html", v)
}

type modRSSItem struct {
	Title   string `xml:"title"`
	Link    string `xml:"link"`
	GUID    string `xml:"guid"`
	PubDate string `xml:"pubDate"`
	Desc    string `xml:"description"`
}

func (s *Server) modLogRSS(c echo.Context, l *i18n.Localizer, g *store.Group, base string, entries []logEntry) error {
	type channel struct {
		Title string       `xml:"title"`
		Link  string       `xml:"link"`
		Desc  string       `xml:"description"`
		Lang  string       `xml:"language"`
		Items []modRSSItem `xml:"item"`
	}
	type rss struct {
		XMLName xml.Name `xml:"rss"`
		Version string   `xml:"version,attr"`
		Channel channel  `xml:"channel"`
	}
	title := l.T("mod.log.heading") + " – " + s.opt.Instance.Name
	if g != nil {
		title = l.T("mod.log.heading") + " – " + g.Name
	}
	ch := channel{Title: title, Link: s.u.Base + base, Desc: l.T("mod.rss.description"), Lang: l.Lang}
	for _, e := range entries {
		who := e.Author
		if e.Server != "" {
			who = e.Server
		}
		ch.Items = append(ch.Items, modRSSItem{
			Title:   l.T("mod.rss.item_title", "Group", e.Group, "Action", e.ActionLabel, "Rule", e.Rule),
			Link:    fmt.Sprintf("%s%s#d%d", s.u.Base, base, e.ID),
			GUID:    fmt.Sprintf("%s/moderation#d%d", s.u.Base, e.ID),
			PubDate: e.Date.Format(time.RFC1123Z),
			Desc: l.T("mod.rss.item_description", "Date", e.Date.Format("2006-01-02"), "Action", e.ActionLabel, "Rule", e.Rule,
				"Version", e.RuleVersion, "Ground", e.Ground, "Who", who),
		})
	}
	out, err := xml.MarshalIndent(rss{Version: "2.0", Channel: ch}, "", " ")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/rss+xml; charset=utf-8", append([]byte(xml.Header), out...))
}

type reportPage struct {
	page
	CSRF, Object, Comment, Category, Error string
	Grounds                                []moderation.Ground
	Done                                   bool
}

// reportForm is the public "report" form (MOD-1): anonymous allowed.
func (s *Server) reportForm(c echo.Context) error {
	l := s.tr(c)
	v := reportPage{page: s.page(c, l.T("mod.report.heading"), ""), CSRF: s.csrfToken(c), Object: c.QueryParam("object"), Grounds: localGrounds(l)}
	return s.render(c, http.StatusOK, "report.html", v)
}

// report stores a report in the moderation queue: 201 with a receipt.
func (s *Server) report(c echo.Context) error {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, 16<<10)
	ctx := r.Context()
	l := s.tr(c)
	v := reportPage{page: s.page(c, l.T("mod.report.heading"), ""), CSRF: s.csrfToken(c), Object: strings.TrimSpace(c.FormValue("object")),
		Comment: strings.TrimSpace(c.FormValue("comment")), Category: c.FormValue("category"), Grounds: localGrounds(l)}
	var gid *int64
	if n, err := s.st.RemoteNoteByIRI(ctx, v.Object); err == nil {
		gid = &n.GroupID
	} else if slug, ok := s.u.GroupSlug(v.Object); ok {
		if g, err := s.fed.Group(ctx, slug); err == nil {
			gid = &g.ID
		}
	}
	_, known := moderation.GroundByCode(v.Category)
	switch {
	case gid == nil:
		v.Error = l.T("mod.report.error.object")
	case !known:
		v.Error = l.T("mod.report.error.category")
	case len(v.Comment) > 2000:
		v.Error = l.T("mod.report.error.comment_length")
	}
	if v.Error != "" {
		return s.render(c, http.StatusUnprocessableEntity, "report.html", v)
	}
	rep := &store.ModReport{GroupID: gid, ObjectIRI: v.Object, Category: v.Category, Comment: v.Comment, Origin: "web"}
	if sc := staffFrom(c); sc != nil {
		rep.ReporterIRI = "staff:" + sc.user.Username
	}
	if _, err := s.st.InsertReport(ctx, rep); err != nil {
		return err
	}
	v.Done = true
	return s.render(c, http.StatusCreated, "report.html", v)
}

type appealPage struct {
	page
	CSRF, Text, Error string
	Entry             logEntry
	Done              bool
}

func (s *Server) appealDecision(c echo.Context) (*store.ModDecision, logEntry, error) {
	d, err := s.st.DecisionByAppealToken(c.Request().Context(), c.Param("token"))
	if err != nil {
		return nil, logEntry{}, store.ErrNotFound
	}
	e := logEntry{ID: d.ID, Date: d.CreatedAt, Action: d.Action, ActionLabel: actionLabel(s.tr(c), d.Action), Rule: d.RuleID, RuleVersion: d.RuleVersion, Until: d.EndsAt}
	if r, err := s.st.RuleVersion(c.Request().Context(), d.RuleID, d.RuleVersion); err == nil {
		e.RuleText = r.Text
	}
	return d, e, nil
}

// appealForm lets the author ask for reconsideration (MOD-9), from the
// secret link in the direct message.
func (s *Server) appealForm(c echo.Context) error {
	_, e, err := s.appealDecision(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "appeal.html", appealPage{page: s.page(c, s.tr(c).T("mod.appeal.heading"), ""), CSRF: s.csrfToken(c), Entry: e})
}

func (s *Server) appeal(c echo.Context) error {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, 16<<10)
	_, e, err := s.appealDecision(c)
	if err != nil {
		return err
	}
	v := appealPage{page: s.page(c, s.tr(c).T("mod.appeal.heading"), ""), CSRF: s.csrfToken(c), Entry: e, Text: c.FormValue("text")}
	if _, err := s.opt.Moderation.Appeal(r.Context(), c.Param("token"), v.Text); err != nil {
		if errors.Is(err, decisions.ErrInvalid) {
			v.Error = s.tr(c).T("mod.appeal.error")
			return s.render(c, http.StatusUnprocessableEntity, "appeal.html", v)
		}
		return err
	}
	v.Done = true
	return s.render(c, http.StatusCreated, "appeal.html", v)
}

// legalTimes is the time from report to decision for reports in the legal
// categories over the last year, per month of decision (newest first):
// how many, the median and the longest, and how many passed the alert
// target, all in working time (MOD-5).
func (s *Server) legalTimes(ctx context.Context) ([]legalMonth, error) {
	var legal []string
	for _, g := range moderation.Grounds {
		if g.Legal {
			legal = append(legal, g.Code)
		}
	}
	rs, err := s.st.ResolvedReports(ctx, legal, s.st.Now().AddDate(-1, 0, 0))
	if err != nil {
		return nil, err
	}
	t := s.legalTarget()
	by := map[string][]time.Duration{}
	for _, r := range rs {
		m := r.ResolvedAt.UTC().Format("2006-01")
		by[m] = append(by[m], t.Hours.Between(r.CreatedAt, *r.ResolvedAt))
	}
	out := make([]legalMonth, 0, len(by))
	for m, ds := range by {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		med := ds[len(ds)/2]
		if len(ds)%2 == 0 {
			med = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
		}
		lm := legalMonth{Month: m, N: len(ds), Median: hoursText(med), Max: hoursText(ds[len(ds)-1])}
		for _, d := range ds {
			if d >= t.Alert {
				lm.Overdue++
			}
		}
		out = append(out, lm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Month > out[j].Month })
	return out, nil
}
