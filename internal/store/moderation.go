package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// ModRule is one version of a published moderation rule. A change is a new
// row with the next version; the old row gets retired_at and stays, so
// every decision's rule version can be read back (GOV-1).
type ModRule struct {
	ID            int64
	RuleID        string
	Version       int
	GroupID       *int64 // nil: instance-wide
	Kind          string
	Text          string
	Action        string
	LegalGround   string
	Pattern       string
	Lim           int
	WindowSeconds int64
	CreatedBy     string
	CreatedAt     time.Time
	RetiredAt     *time.Time
	// GOV-3: a version made in the interface is proposed, with a written
	// justification, and enforced only once a second administrator
	// approves it. Built-in rules seeded at install are approved at once.
	Status        string // RuleProposed, RuleApproved, RuleRejected
	Justification string
	CreatedByID   *int64
	DecidedBy     string
	DecidedByID   *int64
	DecidedAt     *time.Time
	DecisionNote  string // why a proposal was rejected
}

// Rule version states (GOV-3). Only approved versions are ever in force.
const (
	RuleProposed = "proposed"
	RuleApproved = "approved"
	RuleRejected = "rejected"
)

// ErrSameAdmin refuses an administrator approving their own proposal.
var ErrSameAdmin = fmt.Errorf("a second administrator must approve a rule proposal: %w", ErrConflict)

// DomainPolicy is the federation policy for one remote host.
type DomainPolicy struct {
	Host      string `gorm:"primaryKey"`
	Policy    string // DomainReject, DomainHold, DomainNoMedia, DomainAllow
	Reason    string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Domain policies.
const (
	DomainAllow   = "allow"    // listed in allow-list mode
	DomainReject  = "reject"   // refused at the inbox (403), no deliveries
	DomainHold    = "hold"     // every item held for review
	DomainNoMedia = "no_media" // attachments dropped
)

// ModDecision is one moderation decision. It is never deleted.
type ModDecision struct {
	ID            int64
	GroupID       *int64
	Action        string // approve, hide, remove, warn, ban, unban, defederate, appeal_upheld, appeal_reversed, restore
	State         string // DecisionPending (waiting for a second moderator), DecisionEffective, DecisionCancelled
	ObjectIRI     string
	AuthorIRI     string
	AuthorHandle  string
	RuleID        string
	RuleVersion   int
	LegalGround   string
	Reason        string
	Automatic     bool
	ModeratorID   *int64
	ModeratorName string
	ApproverID    *int64
	ApproverName  string
	EndsAt        *time.Time
	AppealID      *int64
	NoticeIRI     string // the direct message that told the author
	AppealToken   string // secret in the appeal link the author was sent
	CreatedAt     time.Time
	EffectiveAt   *time.Time
	ReviewAt      *time.Time // ban: when a moderator must review it (GOV-4)
}

// Decision states.
const (
	DecisionPending   = "pending"
	DecisionEffective = "effective"
	DecisionCancelled = "cancelled"
)

// ModBlock keeps an author's activities out of a group (GroupID set) or the
// whole instance until EndsAt.
type ModBlock struct {
	ID         int64
	GroupID    *int64
	ActorIRI   string
	DecisionID int64
	StartsAt   time.Time
	EndsAt     time.Time
	LiftedAt   *time.Time
}

// ModReport is a report from the public form or a remote Flag.
type ModReport struct {
	ID          int64
	GroupID     *int64
	ObjectIRI   string
	Category    string // a legal ground or rule id
	Comment     string
	ReporterIRI string // "" for an anonymous visitor
	Origin      string // "web" or the reporting server's host
	FlagIRI     *string
	CreatedAt   time.Time
	ResolvedAt  *time.Time
	DecisionID  *int64
}

// ModAppeal is an author's request for reconsideration of a decision.
type ModAppeal struct {
	ID                int64
	DecisionID        int64
	Text              string
	FromIRI           string
	CreatedAt         time.Time
	Outcome           string // "", "upheld", "reversed"
	DecidedBy         string
	DecidedAt         *time.Time
	OutcomeDecisionID *int64
}

// SaveRule stores r as the next version of its rule id, in force at once,
// and retires the version before it, in one transaction. It is for the
// built-in rules seeded at install; changes made by staff go through
// ProposeRule and ApproveRule (GOV-3). r.Version is set.
func (s *Store) SaveRule(ctx context.Context, r *ModRule) error {
	return s.Tx(ctx, func(tx *Store) error {
		v, err := tx.nextRuleVersion(ctx, r.RuleID)
		if err != nil {
			return err
		}
		now := tx.now()
		r.ID, r.Version, r.CreatedAt, r.RetiredAt = 0, v, now, nil
		r.Status, r.DecidedBy, r.DecidedAt = RuleApproved, r.CreatedBy, &now
		if err := tx.ctx(ctx).Exec("UPDATE mod_rules SET retired_at = ? WHERE rule_id = ? AND retired_at IS NULL AND status = ?", now, r.RuleID, RuleApproved).Error; err != nil {
			return err
		}
		if err := tx.ctx(ctx).Create(r).Error; err != nil {
			return fmt.Errorf("save rule %s: %w", r.RuleID, translate(err))
		}
		return nil
	})
}

func (s *Store) nextRuleVersion(ctx context.Context, ruleID string) (int, error) {
	var cur struct{ V *int }
	if err := s.ctx(ctx).Raw("SELECT MAX(version) AS v FROM mod_rules WHERE rule_id = ?", ruleID).Scan(&cur).Error; err != nil {
		return 0, err
	}
	if cur.V == nil {
		return 1, nil
	}
	return *cur.V + 1, nil
}

// ProposeRule stores r as a proposed next version of its rule id: not in
// force until another administrator approves it (GOV-3). One proposal a
// rule at a time (ErrConflict). r.Version and r.Status are set.
func (s *Store) ProposeRule(ctx context.Context, r *ModRule) error {
	return s.Tx(ctx, func(tx *Store) error {
		var n int64
		if err := tx.ctx(ctx).Model(&ModRule{}).Where("rule_id = ? AND status = ?", r.RuleID, RuleProposed).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("rule %s already has a proposal waiting for approval: %w", r.RuleID, ErrConflict)
		}
		v, err := tx.nextRuleVersion(ctx, r.RuleID)
		if err != nil {
			return err
		}
		r.ID, r.Version, r.CreatedAt, r.RetiredAt = 0, v, tx.now(), nil
		r.Status, r.DecidedBy, r.DecidedByID, r.DecidedAt = RuleProposed, "", nil, nil
		if err := tx.ctx(ctx).Create(r).Error; err != nil {
			return fmt.Errorf("propose rule %s: %w", r.RuleID, translate(err))
		}
		return nil
	})
}

// ApproveRule puts a proposed version in force and retires the version it
// replaces. The proposer may not approve (ErrSameAdmin); a version that is
// not proposed is ErrConflict.
func (s *Store) ApproveRule(ctx context.Context, id, approverID int64, approver string) (*ModRule, error) {
	return s.decideRule(ctx, id, approverID, approver, RuleApproved, "")
}

// RejectRule turns a proposal down (the proposer may withdraw it); it stays
// on record and is never in force.
func (s *Store) RejectRule(ctx context.Context, id, byID int64, by, note string) (*ModRule, error) {
	return s.decideRule(ctx, id, byID, by, RuleRejected, note)
}

func (s *Store) decideRule(ctx context.Context, id, byID int64, by, status, note string) (*ModRule, error) {
	var r ModRule
	err := s.Tx(ctx, func(tx *Store) error {
		if err := translate(tx.ctx(ctx).Where("id = ?", id).Take(&r).Error); err != nil {
			return fmt.Errorf("load rule proposal %d: %w", id, err)
		}
		if r.Status != RuleProposed {
			return fmt.Errorf("rule %s version %d is %s, not proposed: %w", r.RuleID, r.Version, r.Status, ErrConflict)
		}
		if status == RuleApproved && r.CreatedByID != nil && *r.CreatedByID == byID {
			return ErrSameAdmin
		}
		now := tx.now()
		if status == RuleApproved {
			if err := tx.ctx(ctx).Exec("UPDATE mod_rules SET retired_at = ? WHERE rule_id = ? AND retired_at IS NULL AND status = ?", now, r.RuleID, RuleApproved).Error; err != nil {
				return err
			}
		} else {
			r.RetiredAt = &now
		}
		r.Status, r.DecidedBy, r.DecidedByID, r.DecidedAt, r.DecisionNote = status, by, &byID, &now, note
		return tx.ctx(ctx).Exec("UPDATE mod_rules SET status = ?, decided_by = ?, decided_by_id = ?, decided_at = ?, decision_note = ?, retired_at = ? WHERE id = ?",
			r.Status, by, byID, now, note, r.RetiredAt, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ProposedRules lists the proposals waiting for a second administrator,
// oldest first.
func (s *Store) ProposedRules(ctx context.Context) ([]ModRule, error) {
	var out []ModRule
	return out, s.ctx(ctx).Where("status = ?", RuleProposed).Order("id").Find(&out).Error
}

// RuleByID loads one rule version by its row id.
func (s *Store) RuleByID(ctx context.Context, id int64) (*ModRule, error) {
	var r ModRule
	if err := translate(s.ctx(ctx).Where("id = ?", id).Take(&r).Error); err != nil {
		return nil, fmt.Errorf("load rule version %d: %w", id, err)
	}
	return &r, nil
}

// RetireRule withdraws a rule (its versions stay on record).
func (s *Store) RetireRule(ctx context.Context, ruleID string) error {
	defer s.write()()
	res := s.wctx(ctx).Exec("UPDATE mod_rules SET retired_at = ? WHERE rule_id = ? AND retired_at IS NULL AND status = ?", s.now(), ruleID, RuleApproved)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// CurrentRules returns the rules in force: the instance's and, when
// groupID is not 0, that group's.
func (s *Store) CurrentRules(ctx context.Context, groupID int64) ([]ModRule, error) {
	q := s.ctx(ctx).Where("retired_at IS NULL AND status = ?", RuleApproved)
	if groupID == 0 {
		q = q.Where("group_id IS NULL")
	} else {
		q = q.Where("group_id IS NULL OR group_id = ?", groupID)
	}
	var out []ModRule
	return out, q.Order("group_id IS NOT NULL, rule_id").Find(&out).Error
}

// AllCurrentRules returns every rule in force, instance and groups.
func (s *Store) AllCurrentRules(ctx context.Context) ([]ModRule, error) {
	var out []ModRule
	return out, s.ctx(ctx).Where("retired_at IS NULL AND status = ?", RuleApproved).Order("group_id IS NOT NULL, group_id, rule_id").Find(&out).Error
}

// RuleHistory returns every version that was in force of every rule of
// the instance (groupID 0) or a group, newest first.
func (s *Store) RuleHistory(ctx context.Context, groupID int64) ([]ModRule, error) {
	q := s.ctx(ctx).Where("status = ?", RuleApproved)
	if groupID == 0 {
		q = q.Where("group_id IS NULL")
	} else {
		q = q.Where("group_id = ?", groupID)
	}
	var out []ModRule
	return out, q.Order("rule_id, version DESC").Find(&out).Error
}

// RuleVersion loads one version of a rule.
func (s *Store) RuleVersion(ctx context.Context, ruleID string, version int) (*ModRule, error) {
	var r ModRule
	if err := translate(s.ctx(ctx).Where("rule_id = ? AND version = ?", ruleID, version).Take(&r).Error); err != nil {
		return nil, fmt.Errorf("load rule %s v%d: %w", ruleID, version, err)
	}
	return &r, nil
}

// RulesStamp changes whenever a rule is saved, approved or retired:
// caches compare it.
func (s *Store) RulesStamp(ctx context.Context) (string, error) {
	var row struct {
		N int64
		M *int64
		R *string
		D *string
	}
	err := s.ctx(ctx).Raw("SELECT COUNT(*) AS n, MAX(id) AS m, CAST(MAX(retired_at) AS TEXT) AS r, CAST(MAX(decided_at) AS TEXT) AS d FROM mod_rules").Scan(&row).Error
	stamp := fmt.Sprint(row.N)
	if row.M != nil {
		stamp += fmt.Sprint("/", *row.M)
	}
	if row.R != nil {
		stamp += "/" + *row.R
	}
	if row.D != nil {
		stamp += "/" + *row.D
	}
	return stamp, err
}

// SetDomainPolicy creates or replaces the policy for host.
func (s *Store) SetDomainPolicy(ctx context.Context, p *DomainPolicy) error {
	defer s.write()()
	now := s.now()
	p.Host = strings.ToLower(p.Host)
	p.CreatedAt, p.UpdatedAt = now, now
	return s.wctx(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "host"}},
		DoUpdates: clause.AssignmentColumns([]string{"policy", "reason", "created_by", "updated_at"}),
	}).Create(p).Error
}

// DeleteDomainPolicy removes host's policy.
func (s *Store) DeleteDomainPolicy(ctx context.Context, host string) error {
	defer s.write()()
	return s.wctx(ctx).Where("host = ?", strings.ToLower(host)).Delete(&DomainPolicy{}).Error
}

// DomainPolicies lists every domain policy by host.
func (s *Store) DomainPolicies(ctx context.Context) ([]DomainPolicy, error) {
	var out []DomainPolicy
	return out, s.ctx(ctx).Order("host").Find(&out).Error
}

// InsertDecision records a decision (CreatedAt defaults to now).
func (s *Store) InsertDecision(ctx context.Context, d *ModDecision) error {
	defer s.write()()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	if d.State == DecisionEffective && d.EffectiveAt == nil {
		at := d.CreatedAt
		d.EffectiveAt = &at
	}
	if err := s.wctx(ctx).Create(d).Error; err != nil {
		return fmt.Errorf("record decision %s: %w", d.Action, translate(err))
	}
	return nil
}

// ConfirmDecision makes a pending decision effective with the second
// moderator's approval. It refuses the deciding moderator (ErrConflict).
func (s *Store) ConfirmDecision(ctx context.Context, id, approverID int64, approverName string) (*ModDecision, error) {
	var d ModDecision
	err := s.Tx(ctx, func(tx *Store) error {
		if err := translate(tx.ctx(ctx).Where("id = ?", id).Take(&d).Error); err != nil {
			return err
		}
		if d.State != DecisionPending {
			return fmt.Errorf("decision %d is %s: %w", id, d.State, ErrConflict)
		}
		if d.ModeratorID != nil && *d.ModeratorID == approverID {
			return fmt.Errorf("the second moderator must be someone else: %w", ErrConflict)
		}
		now := tx.now()
		d.State, d.ApproverID, d.ApproverName, d.EffectiveAt = DecisionEffective, &approverID, approverName, &now
		return tx.ctx(ctx).Exec("UPDATE mod_decisions SET state = ?, approver_id = ?, approver_name = ?, effective_at = ? WHERE id = ?",
			d.State, approverID, approverName, now, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// DecisionByAppealToken loads the decision an appeal link refers to.
func (s *Store) DecisionByAppealToken(ctx context.Context, token string) (*ModDecision, error) {
	var d ModDecision
	if token == "" {
		return nil, ErrNotFound
	}
	if err := translate(s.ctx(ctx).Where("appeal_token = ?", token).Take(&d).Error); err != nil {
		return nil, fmt.Errorf("load decision by appeal link: %w", err)
	}
	return &d, nil
}

// SetDecisionNotice records the direct message that told the author.
func (s *Store) SetDecisionNotice(ctx context.Context, id int64, iri string) error {
	defer s.write()()
	return s.wctx(ctx).Exec("UPDATE mod_decisions SET notice_iri = ? WHERE id = ?", iri, id).Error
}

// Decision loads one decision.
func (s *Store) Decision(ctx context.Context, id int64) (*ModDecision, error) {
	var d ModDecision
	if err := translate(s.ctx(ctx).Where("id = ?", id).Take(&d).Error); err != nil {
		return nil, fmt.Errorf("load decision %d: %w", id, err)
	}
	return &d, nil
}

// DecisionFilter selects decisions for the logs.
type DecisionFilter struct {
	GroupID  int64    // 0: every group and the instance
	Actions  []string // empty: all
	State    string   // "": all
	BeforeID int64
	Limit    int
}

// Decisions lists decisions newest first.
func (s *Store) Decisions(ctx context.Context, f DecisionFilter) ([]ModDecision, error) {
	q := s.ctx(ctx).Order("id DESC")
	if f.GroupID != 0 {
		q = q.Where("group_id = ?", f.GroupID)
	}
	if len(f.Actions) > 0 {
		q = q.Where("action IN ?", f.Actions)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []ModDecision
	return out, q.Find(&out).Error
}

// RuleMonthCount is how often a rule was applied in one month.
type RuleMonthCount struct {
	Month  string // YYYY-MM
	RuleID string
	N      int64
}

// DecisionCountsByRuleMonth counts effective decisions citing a rule, per
// rule and month, for the about page.
func (s *Store) DecisionCountsByRuleMonth(ctx context.Context, since time.Time) ([]RuleMonthCount, error) {
	var rows []ModDecision
	if err := s.ctx(ctx).Select("rule_id, created_at").Where("state = ? AND rule_id <> '' AND created_at >= ?", DecisionEffective, since).
		Find(&rows).Error; err != nil {
		return nil, err
	}
	// Grouped here: month extraction differs between the two databases.
	idx := map[[2]string]int{}
	var out []RuleMonthCount
	for _, d := range rows {
		k := [2]string{d.CreatedAt.UTC().Format("2006-01"), d.RuleID}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, RuleMonthCount{Month: k[0], RuleID: k[1]})
		}
		out[i].N++
	}
	return out, nil
}

// InsertBlock records an account block.
func (s *Store) InsertBlock(ctx context.Context, b *ModBlock) error {
	defer s.write()()
	return s.wctx(ctx).Create(b).Error
}

// ActiveBlock reports whether actor is blocked in the group (or on the
// whole instance) at time at.
func (s *Store) ActiveBlock(ctx context.Context, groupID int64, actor string, at time.Time) (bool, error) {
	// Plain SQL: every inbound activity asks this, and gorm's query
	// builder cost more than the indexed look-up.
	var found bool
	err := s.ctx(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM mod_blocks WHERE actor_iri = ? AND lifted_at IS NULL
	AND starts_at <= ? AND ends_at > ? AND (group_id IS NULL OR group_id = ?))`, actor, at, at, groupID).Row().Scan(&found)
	return found, err
}

// LiftBlocks ends the blocks a decision imposed (on a reversed appeal).
func (s *Store) LiftBlocks(ctx context.Context, decisionID int64) error {
	defer s.write()()
	return s.wctx(ctx).Exec("UPDATE mod_blocks SET lifted_at = ? WHERE decision_id = ? AND lifted_at IS NULL", s.now(), decisionID).Error
}

// InsertReport stores a report. A Flag seen before is not stored twice
// (inserted false).
func (s *Store) InsertReport(ctx context.Context, r *ModReport) (bool, error) {
	defer s.write()()
	r.CreatedAt = s.now()
	res := s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(r)
	if res.Error != nil {
		return false, fmt.Errorf("store report: %w", translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// OpenReports lists unresolved reports, oldest first.
func (s *Store) OpenReports(ctx context.Context, limit int) ([]ModReport, error) {
	var out []ModReport
	return out, s.ctx(ctx).Where("resolved_at IS NULL").Order("created_at, id").Limit(limit).Find(&out).Error
}

// ResolveReports closes every open report about object with a decision.
func (s *Store) ResolveReports(ctx context.Context, objectIRI string, decisionID int64) error {
	defer s.write()()
	return s.wctx(ctx).Exec("UPDATE mod_reports SET resolved_at = ?, decision_id = ? WHERE object_iri = ? AND resolved_at IS NULL",
		s.now(), decisionID, objectIRI).Error
}

// InsertAppeal stores an appeal against a decision.
func (s *Store) InsertAppeal(ctx context.Context, a *ModAppeal) error {
	defer s.write()()
	a.CreatedAt = s.now()
	return s.wctx(ctx).Create(a).Error
}

// OpenAppeals lists undecided appeals, oldest first.
func (s *Store) OpenAppeals(ctx context.Context) ([]ModAppeal, error) {
	var out []ModAppeal
	return out, s.ctx(ctx).Where("outcome = ''").Order("id").Find(&out).Error
}

// Appeal loads one appeal.
func (s *Store) Appeal(ctx context.Context, id int64) (*ModAppeal, error) {
	var a ModAppeal
	if err := translate(s.ctx(ctx).Where("id = ?", id).Take(&a).Error); err != nil {
		return nil, fmt.Errorf("load appeal %d: %w", id, err)
	}
	return &a, nil
}

// DecideAppeal records an appeal's outcome once (ErrConflict if decided).
func (s *Store) DecideAppeal(ctx context.Context, id int64, outcome, by string, outcomeDecision int64) error {
	defer s.write()()
	res := s.wctx(ctx).Exec("UPDATE mod_appeals SET outcome = ?, decided_by = ?, decided_at = ?, outcome_decision_id = ? WHERE id = ? AND outcome = ''",
		outcome, by, s.now(), outcomeDecision, id)
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("appeal %d already decided: %w", id, ErrConflict)
	}
	return res.Error
}

// CountActivities counts the Create activities an actor (byActor) or a
// host sent to our inboxes since a time, for the rate rules.
func (s *Store) CountActivities(ctx context.Context, byActor bool, key string, since time.Time) (int, error) {
	var n int64
	q := s.ctx(ctx).Model(&InboxItem{}).Where("type = 'Create' AND received_at >= ?", since)
	if byActor {
		q = q.Where("actor_iri = ?", key)
	} else if s.driver == "sqlite" {
		// The IRIs that start with a prefix ending in "/" are those from
		// the prefix up to the prefix with "0" (the next byte) in its
		// place: a range the inbox_items_actor index answers, where LIKE
		// scanned the whole table (and, unlike PostgreSQL, ignored case).
		hs, h := "https://"+key+"/", "http://"+key+"/"
		q = q.Where("(actor_iri >= ? AND actor_iri < ?) OR (actor_iri >= ? AND actor_iri < ?)",
			hs, hs[:len(hs)-1]+"0", h, h[:len(h)-1]+"0")
	} else {
		q = q.Where("actor_iri LIKE ? OR actor_iri LIKE ?", "https://"+likeEscape(key)+"/%", "http://"+likeEscape(key)+"/%")
	}
	err := q.Count(&n).Error
	return int(n), err
}

// CanModerate reports whether u may moderate a group: administrators and
// instance moderators (role moderator) everywhere, other staff only where
// they are assigned as moderators.
func (s *Store) CanModerate(ctx context.Context, u *User, groupID int64) (bool, error) {
	if u == nil || u.Disabled {
		return false, nil
	}
	switch u.Role {
	case RoleAdmin, RoleModerator:
		return true, nil
	}
	r, err := s.GroupRole(ctx, groupID, u.ID)
	return r == RoleModerator, err
}

// HasWarning reports whether the author has had an effective warning in
// the group that no appeal reversed (GOV-4: a ban follows a warning).
func (s *Store) HasWarning(ctx context.Context, groupID int64, authorIRI string) (bool, error) {
	var n int64
	err := s.ctx(ctx).Model(&ModDecision{}).
		Where("action = ? AND state = ? AND group_id = ? AND author_iri = ?", "warn", DecisionEffective, groupID, authorIRI).
		Where("id NOT IN (SELECT decision_id FROM mod_appeals WHERE outcome = ?)", "reversed").Count(&n).Error
	return n > 0, err
}

// BansDueForReview lists effective bans whose review date has come and
// whose block is still on (GOV-4), oldest review first.
func (s *Store) BansDueForReview(ctx context.Context, now time.Time) ([]ModDecision, error) {
	var out []ModDecision
	return out, s.ctx(ctx).Where("action = ? AND state = ? AND review_at IS NOT NULL AND review_at <= ?", "ban", DecisionEffective, now).
		Where("EXISTS (SELECT 1 FROM mod_blocks b WHERE b.decision_id = mod_decisions.id AND b.lifted_at IS NULL AND b.ends_at > ?)", now).
		Order("review_at, id").Find(&out).Error
}

// SetBanReview moves a ban's next review date (nil: no further review).
func (s *Store) SetBanReview(ctx context.Context, decisionID int64, at *time.Time) error {
	defer s.write()()
	return s.wctx(ctx).Exec("UPDATE mod_decisions SET review_at = ? WHERE id = ?", at, decisionID).Error
}

// ResolvedReports lists reports in the given categories decided since a
// time, with reported_at (created_at) and decided_at (resolved_at), for the
// time-to-decision statistics (MOD-5).
func (s *Store) ResolvedReports(ctx context.Context, categories []string, since time.Time) ([]ModReport, error) {
	var out []ModReport
	if len(categories) == 0 {
		return nil, nil
	}
	return out, s.ctx(ctx).Where("resolved_at IS NOT NULL AND resolved_at >= ? AND category IN ?", since, categories).
		Order("resolved_at").Find(&out).Error
}
