package decisions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/store"
)

// ErrSameAdmin refuses an administrator approving their own rule proposal
// (GOV-3).
var ErrSameAdmin = errors.New("a rule proposal must be approved by a second administrator, not by the one who proposed it (GOV-3)")

// Proposal is a new rule or a new version of one, as an administrator
// proposes it (GOV-3).
type Proposal struct {
	Rule          moderation.Rule
	GroupID       *int64 // nil: instance-wide
	Justification string // why the rule is needed, linked to its legal ground
}

// ProposeRule stores a proposed rule version. It is not enforced until a
// second administrator approves it. The rule must validate (a legal ground
// from the catalogue, GOV-2) and carry a written justification.
func (s *Service) ProposeRule(ctx context.Context, m Moderator, p Proposal) (*store.ModRule, error) {
	r := p.Rule
	p.Justification = strings.TrimSpace(p.Justification)
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := moderation.Compile([]moderation.Rule{r}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if p.Justification == "" || len(p.Justification) > 4000 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, ErrJustification)
	}
	mid := m.ID
	row := &store.ModRule{RuleID: r.ID, Kind: string(r.Kind), Text: r.Text, Action: string(r.Action), LegalGround: r.LegalGround,
		Pattern: r.Pattern, Lim: r.Limit, WindowSeconds: int64(r.Window / time.Second), CreatedBy: m.Name, CreatedByID: &mid,
		GroupID: p.GroupID, Justification: p.Justification}
	if err := s.st.ProposeRule(ctx, row); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return nil, err
	}
	return row, s.recordRule(ctx, m, row, "propose")
}

// ErrJustification refuses a proposal without a written justification.
var ErrJustification = errors.New("write a justification: why the rule is needed and how it follows from its legal ground (GOV-3)")

// ApproveRule puts a proposal in force. The proposer may not approve it.
func (s *Service) ApproveRule(ctx context.Context, m Moderator, id int64) (*store.ModRule, error) {
	r, err := s.st.ApproveRule(ctx, id, m.ID, m.Name)
	switch {
	case errors.Is(err, store.ErrSameAdmin):
		return nil, fmt.Errorf("%w: %w", ErrForbidden, ErrSameAdmin)
	case errors.Is(err, store.ErrConflict):
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	case err != nil:
		return nil, err
	}
	s.scr.Invalidate()
	return r, s.recordRule(ctx, m, r, "approve")
}

// RejectRule turns a proposal down with a reason; the proposer may
// withdraw their own.
func (s *Service) RejectRule(ctx context.Context, m Moderator, id int64, reason string) (*store.ModRule, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return nil, fmt.Errorf("%w: write why the proposal is rejected", ErrInvalid)
	}
	r, err := s.st.RejectRule(ctx, id, m.ID, m.Name, reason)
	if errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err != nil {
		return nil, err
	}
	return r, s.recordRule(ctx, m, r, "reject")
}

// recordRule keeps a rule proposal, approval or rejection in the
// append-only record and the audit log: who and when.
func (s *Service) recordRule(ctx context.Context, m Moderator, r *store.ModRule, step string) error {
	body, err := json.Marshal(map[string]any{"step": step, "rule": r})
	if err != nil {
		return err
	}
	if err := s.st.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindRuleChange, Category: store.KindRuleChange + "." + step,
		Direction: store.DirInternal, GroupID: r.GroupID, Actor: store.StaffActor(m.ID, m.Name), ObjectIRI: r.RuleID,
		Ref: fmt.Sprintf("rule:%s:%d:%s", r.RuleID, r.Version, step), Payload: string(body)}); err != nil {
		return fmt.Errorf("record rule %s v%d %s: %w", r.RuleID, r.Version, step, err)
	}
	detail := fmt.Sprintf("version %d kind=%s action=%s ground=%s proposed_by=%s", r.Version, r.Kind, r.Action, r.LegalGround, r.CreatedBy)
	if r.DecisionNote != "" {
		detail += " reason=" + r.DecisionNote
	}
	s.audit(ctx, m, "rule_"+step, r.RuleID, detail)
	return nil
}
