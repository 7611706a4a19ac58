// Package screening applies the published moderation rules and the
// federation policy to what arrives: it compiles the rules in force from
// the store (cached per group, rebuilt when a rule changes), counts recent
// activity for the rate rules, and answers whether a remote host or author
// may reach us or be delivered to.
package screening

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/store"
)

// SettingFederationMode holds "denylist" (default: everyone but rejected
// domains) or "allowlist" (only domains with policy allow).
const SettingFederationMode = "moderation.federation_mode"

// Federation modes.
const (
	ModeDenylist  = "denylist"
	ModeAllowlist = "allowlist"
)

// Rule ids of the verdicts the federation policy and account blocks give;
// they are not rules of the catalogue but decisions, so they name what
// the moderator decided.
const (
	PolicyDomainHold    = "domain-hold"
	PolicyBlocked       = "account-block"
	PolicyDomainReject  = "domain-reject"
	PolicyDomainNoMedia = "domain-no-media"
)

// Screener implements federation.Screener and the domain checks.
type Screener struct {
	st  *store.Store
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	stamp    string
	checked  time.Time
	engines  map[int64]*moderation.Engine // group id (0: instance) → engine
	mode     string
	policies map[string]string // host → policy
}

// New returns a Screener; the rule and policy caches are rechecked
// against the store at most every ttl (other nodes' changes) and at once
// after Invalidate (this node's).
func New(st *store.Store, ttl time.Duration) *Screener {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &Screener{st: st, ttl: ttl, now: st.Now}
}

// Invalidate drops the caches (a rule or policy was changed).
func (s *Screener) Invalidate() {
	s.mu.Lock()
	s.engines, s.policies, s.stamp = nil, nil, ""
	s.mu.Unlock()
}

// FromStore converts a stored rule row for the engine.
func FromStore(r store.ModRule) moderation.Rule {
	var gid int64
	if r.GroupID != nil {
		gid = *r.GroupID
	}
	return moderation.Rule{ID: r.RuleID, Version: r.Version, GroupID: gid, Kind: moderation.Kind(r.Kind), Text: r.Text,
		Action: moderation.Action(r.Action), LegalGround: r.LegalGround, Pattern: r.Pattern, Limit: r.Lim,
		Window: time.Duration(r.WindowSeconds) * time.Second}
}

func (s *Screener) refresh(ctx context.Context) error {
	now := s.now()
	if s.engines != nil && now.Sub(s.checked) < s.ttl {
		return nil
	}
	stamp, err := s.st.RulesStamp(ctx)
	if err != nil {
		return fmt.Errorf("rules stamp: %w", err)
	}
	if stamp != s.stamp || s.policies == nil {
		s.engines = map[int64]*moderation.Engine{}
		s.policies = nil
	}
	if s.policies == nil || now.Sub(s.checked) >= s.ttl {
		ps, err := s.st.DomainPolicies(ctx)
		if err != nil {
			return fmt.Errorf("domain policies: %w", err)
		}
		s.policies = make(map[string]string, len(ps))
		for _, p := range ps {
			s.policies[p.Host] = p.Policy
		}
		mode, err := s.st.Setting(ctx, SettingFederationMode)
		if errors.Is(err, store.ErrNotFound) {
			mode, err = ModeDenylist, nil
		}
		if err != nil {
			return err
		}
		s.mode = mode
	}
	s.stamp, s.checked = stamp, now
	return nil
}

// Engine returns the compiled rules in force for a group (instance rules
// plus the group's own); groupID 0 gives the instance rules only.
func (s *Screener) Engine(ctx context.Context, groupID int64) (*moderation.Engine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	if e, ok := s.engines[groupID]; ok {
		return e, nil
	}
	rows, err := s.st.CurrentRules(ctx, groupID)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	rules := make([]moderation.Rule, len(rows))
	for i, r := range rows {
		rules[i] = FromStore(r)
	}
	e, err := moderation.Compile(rules)
	if err != nil {
		return nil, err
	}
	s.engines[groupID] = e
	return e, nil
}

// Policy returns the effective policy for a host: store.DomainReject,
// DomainHold, DomainNoMedia, or "" (no restriction). In allow-list mode an
// unlisted host is rejected.
func (s *Screener) Policy(ctx context.Context, host string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx); err != nil {
		return "", err
	}
	host = strings.ToLower(host)
	p, listed := s.policies[host]
	for h := host; !listed; {
		_, rest, ok := strings.Cut(h, ".")
		if !ok || !strings.Contains(rest, ".") {
			break
		}
		h = rest
		p, listed = s.policies[h] // a policy covers subdomains
	}
	switch {
	case p == store.DomainAllow:
		return "", nil
	case listed:
		return p, nil
	case s.mode == ModeAllowlist:
		return store.DomainReject, nil
	}
	return "", nil
}

// RefuseInbound reports why an activity from actor on host must be
// refused before it is stored ("" when it may be stored): the host is
// rejected, or the actor is blocked on the instance or in the group
// (groupID 0 for the shared inbox).
func (s *Screener) RefuseInbound(ctx context.Context, host, actor string, groupID int64) (string, error) {
	p, err := s.Policy(ctx, host)
	if err != nil {
		return "", err
	}
	if p == store.DomainReject {
		return "the server " + host + " is not federated with (domain policy)", nil
	}
	blocked, err := s.st.ActiveBlock(ctx, groupID, actor, s.now())
	if err != nil {
		return "", err
	}
	if blocked {
		return "the author is blocked", nil
	}
	return "", nil
}

// Deliverable reports whether deliveries to host may be sent.
func (s *Screener) Deliverable(ctx context.Context, host string) bool {
	p, err := s.Policy(ctx, host)
	return err != nil || p != store.DomainReject // a store error must not silently drop deliveries
}

// Screen evaluates an inbound item against the rules in force for its
// group, the host's policy and account blocks (it.Blocked: the caller
// looks the author up, with what else it needs to know of them, in one
// query — store.AuthorStanding).
func (s *Screener) Screen(ctx context.Context, it moderation.Item) (moderation.Verdict, error) {
	e, err := s.Engine(ctx, it.GroupID)
	if err != nil {
		return moderation.Verdict{}, err
	}
	if it.At.IsZero() {
		it.At = s.now()
	}
	v, err := e.Evaluate(it, func(byAuthor bool, key string, since time.Time) (int, error) {
		n, err := s.st.CountActivities(ctx, byAuthor, key, since)
		if n > 0 {
			n-- // the item being screened is stored already
		}
		return n, err
	})
	if err != nil {
		return moderation.Verdict{}, err
	}
	extra := func(m moderation.Match) {
		v.Matches = append(v.Matches, m)
		if m.Action.Severity() > v.Action.Severity() {
			v.Action = m.Action
		}
	}
	if p, err := s.Policy(ctx, it.AuthorHost); err != nil {
		return moderation.Verdict{}, err
	} else if p == store.DomainHold {
		extra(moderation.Match{RuleID: PolicyDomainHold, Action: moderation.Hold, Why: "servern " + it.AuthorHost + " granskas i förväg"})
	} else if p == store.DomainNoMedia && it.Media > 0 {
		v.DropMedia = true
		v.Matches = append(v.Matches, moderation.Match{RuleID: PolicyDomainNoMedia, Action: moderation.Accept, Why: "bilagor från servern " + it.AuthorHost + " tas bort"})
	} else if p == store.DomainReject {
		extra(moderation.Match{RuleID: PolicyDomainReject, Action: moderation.Reject, Why: "servern " + it.AuthorHost + " är avstängd"})
	}
	if it.Blocked {
		extra(moderation.Match{RuleID: PolicyBlocked, Action: moderation.Reject, Why: "avsändaren är avstängd"})
	}
	return v, nil
}

// settingSeeded marks that the default rules were created once; an
// administrator who retires them does not see them come back.
const settingSeeded = "moderation.defaults_seeded"

// SeedDefaultRules creates, on first start, one instance rule per ground
// of the catalogue (judged by a moderator, action hide), so that every
// decision can cite a published rule from day one.
func SeedDefaultRules(ctx context.Context, st *store.Store) error {
	if _, err := st.Setting(ctx, settingSeeded); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	existing, err := st.CurrentRules(ctx, 0)
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		for _, r := range moderation.DefaultRules() {
			row := &store.ModRule{RuleID: r.ID, Kind: string(r.Kind), Text: r.Text, Action: string(r.Action), LegalGround: r.LegalGround, CreatedBy: "torget"}
			if err := st.SaveRule(ctx, row); err != nil {
				return err
			}
		}
	}
	return st.SetSetting(ctx, settingSeeded, "1")
}
