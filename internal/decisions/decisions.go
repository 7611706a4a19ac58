// Package decisions carries out moderators' decisions: it checks them
// (a rule in force, GOV-2; a second moderator for a ban, GOV-4; another
// moderator for an appeal, MOD-9), records them, changes what is shown,
// federates the consequences (Undo{Announce}, Announce{Delete}, Block) and
// tells the author why and how to appeal.
package decisions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/screening"
	"github.com/torget/torget/internal/store"
)

// Actions a moderator can take.
const (
	Approve    = "approve"
	Hide       = "hide"
	Remove     = "remove"
	Warn       = "warn"
	Ban        = "ban"
	Defederate = "defederate"
	Restore    = "restore" // an appeal reversed a decision
	Unban      = "unban"   // a ban lifted at its review (GOV-4)
	BanReview  = "ban_review"
)

// Indefinite is the end of a block imposed by a ban that has a review date
// and no end date: it lasts until a review lifts it.
var Indefinite = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// PublicActions are the actions the public moderation log lists.
var PublicActions = []string{Hide, Remove, Warn, Ban, Defederate, Restore, Unban}

// ErrInvalid is a decision that cannot be taken as asked (422).
var ErrInvalid = errors.New("invalid decision")

// ErrNoWarning refuses a ban of an author who was never warned, under a
// rule that is not one of the legal categories (GOV-4).
var ErrNoWarning = errors.New("a ban needs a prior warning to the author in this group unless the rule rests on a legal category (GOV-4)")

// ErrForbidden is a decision this moderator may not take (403).
var ErrForbidden = errors.New("not allowed")

// Moderator is who decides.
type Moderator struct {
	ID   int64
	Name string
}

// Input is one decision asked for.
type Input struct {
	Action   string
	NoteID   int64         // approve, hide, remove, warn: the resident's note
	ActorIRI string        // ban: the author (else the note's author)
	GroupID  int64         // ban: the group (0 with NoteID: the note's group)
	Host     string        // defederate
	RuleID   string        // required for everything but approve
	Reason   string        // facts relied on
	BanFor   time.Duration // ban: length (this or ReviewIn is required)
	ReviewIn time.Duration // ban: when it must be reviewed
	ReportID int64         // the report it answers, if any
}

// Service decides.
type Service struct {
	st   *store.Store
	fed  *federation.Service
	scr  *screening.Screener
	log  *slog.Logger
	base string
}

// New returns a Service.
func New(st *store.Store, fed *federation.Service, scr *screening.Screener, log *slog.Logger) *Service {
	return &Service{st: st, fed: fed, scr: scr, log: log, base: fed.URIs().Base}
}

// Screener returns the screener (rules and policies in force).
func (s *Service) Screener() *screening.Screener { return s.scr }

// AppealURL is the public page where the author of a decision asks for
// reconsideration.
func (s *Service) AppealURL(token string) string { return s.base + "/moderation/appeal/" + token }

// rule finds the rule in force for a group (instance rules included).
func (s *Service) rule(ctx context.Context, groupID int64, id string) (moderation.Rule, error) {
	if id == "" {
		return moderation.Rule{}, fmt.Errorf("%w: a decision must cite a rule (GOV-2)", ErrInvalid)
	}
	e, err := s.scr.Engine(ctx, groupID)
	if err != nil {
		return moderation.Rule{}, err
	}
	r, ok := e.Rule(id)
	if !ok {
		return moderation.Rule{}, fmt.Errorf("%w: no rule %q in force for this group", ErrInvalid, id)
	}
	return r, nil
}

// Decide takes a decision. A ban is recorded as pending until a second
// moderator confirms it (Confirm); everything else takes effect at once.
func (s *Service) Decide(ctx context.Context, m Moderator, in Input) (*store.ModDecision, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if len(in.Reason) > 2000 {
		return nil, fmt.Errorf("%w: the reason is longer than 2000 bytes", ErrInvalid)
	}
	mid := m.ID
	d := &store.ModDecision{Action: in.Action, State: store.DecisionEffective, Reason: in.Reason, ModeratorID: &mid, ModeratorName: m.Name}
	var note *store.RemoteNote
	if in.NoteID != 0 {
		n, err := s.st.RemoteNoteByID(ctx, in.NoteID)
		if err != nil {
			return nil, err
		}
		note = n
		in.GroupID = n.GroupID
		d.ObjectIRI, d.AuthorIRI = n.IRI, n.AuthorIRI
	}
	if in.Action != Defederate {
		gid := in.GroupID
		d.GroupID = &gid
	}
	switch in.Action {
	case Approve, Hide, Remove, Warn:
		if note == nil {
			return nil, fmt.Errorf("%w: %s needs an item", ErrInvalid, in.Action)
		}
	case Ban:
		if in.ActorIRI != "" {
			d.AuthorIRI = in.ActorIRI
		}
		if d.AuthorIRI == "" || in.GroupID == 0 {
			return nil, fmt.Errorf("%w: a ban needs an author and a group", ErrInvalid)
		}
		const year = 366 * 24 * time.Hour
		if (in.BanFor <= 0 && in.ReviewIn <= 0) || in.BanFor < 0 || in.BanFor > year || in.ReviewIn < 0 || in.ReviewIn > year {
			return nil, fmt.Errorf("%w: a ban needs a length or a review date, within a year (GOV-4)", ErrInvalid)
		}
		now := s.st.Now()
		if in.BanFor > 0 {
			end := now.Add(in.BanFor)
			d.EndsAt = &end
		}
		if in.ReviewIn > 0 && (d.EndsAt == nil || in.ReviewIn < in.BanFor) {
			rev := now.Add(in.ReviewIn)
			d.ReviewAt = &rev
		}
		d.State = store.DecisionPending
	case Defederate:
		in.Host = strings.ToLower(strings.TrimSpace(in.Host))
		if in.Host == "" || strings.ContainsAny(in.Host, "/ @") {
			return nil, fmt.Errorf("%w: defederating needs a host name", ErrInvalid)
		}
		d.ObjectIRI = in.Host
	default:
		return nil, fmt.Errorf("%w: unknown action %q", ErrInvalid, in.Action)
	}
	if in.Action != Approve {
		r, err := s.rule(ctx, in.GroupID, in.RuleID)
		if err != nil {
			return nil, err
		}
		d.RuleID, d.RuleVersion, d.LegalGround = r.ID, r.Version, r.LegalGround
		if in.Reason == "" {
			return nil, fmt.Errorf("%w: write the facts the decision rests on", ErrInvalid)
		}
		// GOV-4: a ban is the last step of the ladder. Unless the rule
		// rests on a legal category of the bulletin-board act (MOD-2), the
		// author must have been warned in this group first.
		if in.Action == Ban {
			if g, _ := moderation.GroundByCode(r.LegalGround); !g.Legal {
				warned, err := s.st.HasWarning(ctx, in.GroupID, d.AuthorIRI)
				if err != nil {
					return nil, err
				}
				if !warned {
					return nil, fmt.Errorf("%w: %w", ErrInvalid, ErrNoWarning)
				}
			}
		}
	}
	if d.AuthorIRI != "" {
		d.AuthorHandle = s.handle(ctx, d.AuthorIRI)
		d.AppealToken = token()
	}
	if err := s.record(ctx, d); err != nil {
		return nil, err
	}
	if in.ReportID != 0 || d.ObjectIRI != "" {
		if err := s.st.ResolveReports(ctx, d.ObjectIRI, d.ID); err != nil {
			return d, err
		}
	}
	if d.State == store.DecisionEffective {
		return d, s.apply(ctx, d, note)
	}
	return d, nil
}

// Confirm is the second moderator's approval of a pending ban: the block
// starts, Block is federated, and the author is told.
func (s *Service) Confirm(ctx context.Context, m Moderator, decisionID int64) (*store.ModDecision, error) {
	d, err := s.st.ConfirmDecision(ctx, decisionID, m.ID, m.Name)
	if errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, m, "mod_confirm", fmt.Sprint(d.ID), d.Action+" "+d.AuthorIRI)
	payload, _ := json.Marshal(map[string]any{"decision": d})
	if err := s.st.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindBlock, Category: store.KindBlock + ".confirm", Direction: store.DirInternal,
		GroupID: d.GroupID, Actor: store.StaffActor(m.ID, m.Name), ObjectIRI: d.AuthorIRI, Ref: fmt.Sprintf("decision:%d:confirm", d.ID),
		Payload: string(payload)}); err != nil {
		return nil, fmt.Errorf("record block %d: %w", d.ID, err)
	}
	return d, s.apply(ctx, d, nil)
}

// apply carries out an effective decision.
func (s *Service) apply(ctx context.Context, d *store.ModDecision, note *store.RemoteNote) error {
	switch d.Action {
	case Approve:
		if err := s.st.SetRemoteNoteState(ctx, note.ID, store.NoteVisible); err != nil {
			return err
		}
		note.State = store.NoteVisible
		g, err := s.st.GroupByID(ctx, note.GroupID)
		if err != nil {
			return err
		}
		// Pre-moderated and open groups announce what a moderator approved
		// (MOD-10); announcement-only groups never announce replies.
		if g.DiscussionMode != store.ModeAnnouncements && note.AnnouncedAt == nil && note.DeletedAt == nil {
			return s.fed.Announce(ctx, g, note, nil)
		}
		return nil
	case Hide:
		if err := s.st.SetRemoteNoteState(ctx, note.ID, store.NoteHidden); err != nil {
			return err
		}
		if note.AnnouncedAt != nil {
			if _, err := s.fed.RetractNote(ctx, note, d.Reason); err != nil {
				return err
			}
		}
	case Remove:
		// The row stays for the record (MOD-4); only its state changes.
		if err := s.st.SetRemoteNoteState(ctx, note.ID, store.NoteRejected); err != nil {
			return err
		}
		// Only what the group spread needs retracting: a held reply
		// reached nobody through the group.
		if note.AnnouncedAt != nil {
			if _, err := s.fed.RetractNote(ctx, note, d.Reason); err != nil {
				return err
			}
		}
	case Ban:
		gid := *d.GroupID
		end := Indefinite
		if d.EndsAt != nil {
			end = *d.EndsAt
		}
		if err := s.st.InsertBlock(ctx, &store.ModBlock{GroupID: &gid, ActorIRI: d.AuthorIRI, DecisionID: d.ID,
			StartsAt: *d.EffectiveAt, EndsAt: end}); err != nil {
			return err
		}
		g, err := s.st.GroupByID(ctx, gid)
		if err != nil {
			return err
		}
		if _, err := s.fed.BlockActor(ctx, g, d.AuthorIRI); err != nil {
			return err
		}
	case Defederate:
		if err := s.st.SetDomainPolicy(ctx, &store.DomainPolicy{Host: d.ObjectIRI, Policy: store.DomainReject,
			Reason: fmt.Sprintf("%s (regel %s)", d.Reason, d.RuleID), CreatedBy: d.ModeratorName}); err != nil {
			return err
		}
		s.scr.Invalidate()
		return nil
	case Warn:
	}
	if d.Action != Approve && d.AuthorIRI != "" {
		return s.notify(ctx, d)
	}
	return nil
}

var actionSV = map[string]string{Hide: "dolt", Remove: "tagit bort", Warn: "gett en varning för", Ban: "stängt av dig från gruppen på grund av"}

// notify sends the author the statement of reasons (MOD-9).
func (s *Service) notify(ctx context.Context, d *store.ModDecision) error {
	g, err := s.st.GroupByID(ctx, *d.GroupID)
	if err != nil {
		return err
	}
	r, err := s.st.RuleVersion(ctx, d.RuleID, d.RuleVersion)
	if err != nil {
		return err
	}
	ground, _ := moderation.GroundByCode(r.LegalGround)
	var b strings.Builder
	what := "ditt inlägg " + d.ObjectIRI
	if d.Action == Ban {
		what = "upprepade överträdelser"
	}
	fmt.Fprintf(&b, "Gruppen %s har %s %s.\n\n", g.Name, actionSV[d.Action], what)
	fmt.Fprintf(&b, "Regel %s (version %d): %s\nGrund: %s, %s.\n\n", r.RuleID, r.Version, r.Text, ground.Label, ground.Statute)
	fmt.Fprintf(&b, "Motivering: %s\n", d.Reason)
	if d.Automatic {
		b.WriteString("Beslutet fattades automatiskt enligt regeln.\n")
	} else {
		b.WriteString("Beslutet fattades av en moderator.\n")
	}
	if d.EndsAt != nil {
		fmt.Fprintf(&b, "Avstängningen gäller till %s.\n", d.EndsAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if d.ReviewAt != nil {
		fmt.Fprintf(&b, "Avstängningen omprövas senast %s.\n", d.ReviewAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	fmt.Fprintf(&b, "\nDu kan begära omprövning: %s eller svara på det här meddelandet. En annan moderator prövar din begäran.", s.AppealURL(d.AppealToken))
	iri, err := s.fed.NotifyAuthor(ctx, g, d.AuthorIRI, d.AuthorHandle, b.String())
	if err != nil {
		return fmt.Errorf("notify author: %w", err)
	}
	return s.st.SetDecisionNotice(ctx, d.ID, iri)
}

// Appeal records an author's request for reconsideration from the link
// they were sent; it lands in the queue.
func (s *Service) Appeal(ctx context.Context, tok, text string) (*store.ModAppeal, error) {
	d, err := s.st.DecisionByAppealToken(ctx, tok)
	if err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 5000 {
		return nil, fmt.Errorf("%w: write why the decision should be reconsidered (at most 5000 bytes)", ErrInvalid)
	}
	a := &store.ModAppeal{DecisionID: d.ID, Text: text, FromIRI: d.AuthorIRI}
	return a, s.st.InsertAppeal(ctx, a)
}

// DecideAppeal records an appeal's outcome. The moderator who took the
// decision may not reconsider it (MOD-9). Reversing restores a hidden or
// removed item (the retraction stays federated) or lifts a ban.
func (s *Service) DecideAppeal(ctx context.Context, m Moderator, appealID int64, reverse bool, reason string) (*store.ModDecision, error) {
	a, err := s.st.Appeal(ctx, appealID)
	if err != nil {
		return nil, err
	}
	orig, err := s.st.Decision(ctx, a.DecisionID)
	if err != nil {
		return nil, err
	}
	if orig.ModeratorID != nil && *orig.ModeratorID == m.ID {
		return nil, fmt.Errorf("%w: another moderator must reconsider your own decision", ErrForbidden)
	}
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("%w: write the reason for the outcome", ErrInvalid)
	}
	mid := m.ID
	outcome, action := "upheld", "appeal_upheld"
	if reverse {
		outcome, action = "reversed", Restore
	}
	d := &store.ModDecision{GroupID: orig.GroupID, Action: action, State: store.DecisionEffective, ObjectIRI: orig.ObjectIRI,
		AuthorIRI: orig.AuthorIRI, AuthorHandle: orig.AuthorHandle, RuleID: orig.RuleID, RuleVersion: orig.RuleVersion,
		LegalGround: orig.LegalGround, Reason: strings.TrimSpace(reason), ModeratorID: &mid, ModeratorName: m.Name, AppealID: &a.ID}
	if err := s.record(ctx, d); err != nil {
		return nil, err
	}
	if err := s.st.DecideAppeal(ctx, a.ID, outcome, m.Name, d.ID); err != nil {
		return nil, err
	}
	if reverse {
		switch orig.Action {
		case Hide, Remove:
			if n, err := s.st.RemoteNoteByIRI(ctx, orig.ObjectIRI); err == nil {
				if err := s.st.SetRemoteNoteState(ctx, n.ID, store.NoteVisible); err != nil {
					return d, err
				}
			}
		case Ban:
			if err := s.st.LiftBlocks(ctx, orig.ID); err != nil {
				return d, err
			}
			if g, err := s.st.GroupByID(ctx, *orig.GroupID); err == nil {
				if _, err := s.fed.UnblockActor(ctx, g, orig.AuthorIRI); err != nil {
					return d, err
				}
			}
		}
	}
	return d, nil
}

// ReviewBan is a moderator's review of a ban that reached its review date
// (GOV-4): lift it (Unban: the block ends, Undo{Block} is federated), or
// keep it, with a next review date unless the ban has an end date. Both are
// recorded as decisions citing the ban's rule.
func (s *Service) ReviewBan(ctx context.Context, m Moderator, banID int64, lift bool, nextIn time.Duration, reason string) (*store.ModDecision, error) {
	ban, err := s.st.Decision(ctx, banID)
	if err != nil {
		return nil, err
	}
	if ban.Action != Ban || ban.State != store.DecisionEffective || ban.ReviewAt == nil {
		return nil, fmt.Errorf("%w: decision %d is not a ban waiting for review", ErrInvalid, banID)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return nil, fmt.Errorf("%w: write the facts the decision rests on", ErrInvalid)
	}
	var next *time.Time
	if !lift {
		if nextIn < 0 || nextIn > 366*24*time.Hour || (nextIn == 0 && ban.EndsAt == nil) {
			return nil, fmt.Errorf("%w: a ban kept without an end date needs a next review date, within a year (GOV-4)", ErrInvalid)
		}
		if nextIn > 0 {
			at := s.st.Now().Add(nextIn)
			if ban.EndsAt == nil || at.Before(*ban.EndsAt) {
				next = &at
			}
		}
	}
	mid := m.ID
	d := &store.ModDecision{GroupID: ban.GroupID, Action: BanReview, State: store.DecisionEffective, ObjectIRI: ban.ObjectIRI,
		AuthorIRI: ban.AuthorIRI, AuthorHandle: ban.AuthorHandle, RuleID: ban.RuleID, RuleVersion: ban.RuleVersion,
		LegalGround: ban.LegalGround, Reason: reason, ModeratorID: &mid, ModeratorName: m.Name, EndsAt: ban.EndsAt, ReviewAt: next}
	if lift {
		d.Action, d.EndsAt = Unban, nil
	}
	if err := s.record(ctx, d); err != nil {
		return nil, err
	}
	if err := s.st.SetBanReview(ctx, ban.ID, next); err != nil {
		return d, err
	}
	if lift {
		if err := s.st.LiftBlocks(ctx, ban.ID); err != nil {
			return d, err
		}
		g, err := s.st.GroupByID(ctx, *ban.GroupID)
		if err != nil {
			return d, err
		}
		if _, err := s.fed.UnblockActor(ctx, g, ban.AuthorIRI); err != nil {
			return d, err
		}
	}
	return d, nil
}

// record is the one place a decision is persisted: the decision row and
// its audit-log entry. (The archive's append-only record, when it exists,
// hooks in here.)
func (s *Service) record(ctx context.Context, d *store.ModDecision) error {
	if err := s.st.InsertDecision(ctx, d); err != nil {
		return err
	}
	// The append-only record keeps the decision with a full copy of the
	// item it concerns (MOD-4), even when the item is later removed.
	entry := map[string]any{"decision": d}
	if d.ObjectIRI != "" {
		if n, err := s.st.RemoteNoteByIRI(ctx, d.ObjectIRI); err == nil {
			entry["item"] = map[string]any{"iri": n.IRI, "author": n.AuthorIRI, "content_html": n.ContentHTML, "summary": n.Summary,
				"attachments": n.Attachments, "state": n.State, "raw": n.Raw, "version": n.Version}
		}
	}
	payload, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	actor := "automatic"
	if d.ModeratorID != nil {
		actor = store.StaffActor(*d.ModeratorID, d.ModeratorName)
	}
	kind := store.KindModeration
	if d.Action == Defederate {
		kind = store.KindDomainPolicy
	}
	if err := s.st.AppendRecord(ctx, &store.RecordEntry{Kind: kind, Category: kind + "." + d.Action, Direction: store.DirInternal,
		GroupID: d.GroupID, Actor: actor, ObjectIRI: firstNonEmpty(d.ObjectIRI, d.AuthorIRI), Ref: fmt.Sprintf("decision:%d", d.ID),
		Payload: string(payload)}); err != nil {
		return fmt.Errorf("record decision %d: %w", d.ID, err)
	}
	detail := fmt.Sprintf("rule=%s v%d ground=%s state=%s reason=%s", d.RuleID, d.RuleVersion, d.LegalGround, d.State, d.Reason)
	if d.EndsAt != nil {
		detail += " ends=" + d.EndsAt.UTC().Format(time.RFC3339)
	}
	if d.ReviewAt != nil {
		detail += " review=" + d.ReviewAt.UTC().Format(time.RFC3339)
	}
	var m Moderator
	if d.ModeratorID != nil {
		m = Moderator{ID: *d.ModeratorID, Name: d.ModeratorName}
	}
	s.audit(ctx, m, "mod_"+d.Action, firstNonEmpty(d.ObjectIRI, d.AuthorIRI), detail)
	return nil
}

func (s *Service) audit(ctx context.Context, m Moderator, action, target, detail string) {
	e := &store.AuditEntry{Username: m.Name, Action: action, Target: clip(target, 500), Detail: clip(detail, 1000)}
	if m.ID != 0 {
		id := m.ID
		e.UserID = &id
	}
	if e.Username == "" {
		e.Username = "automatic"
	}
	if err := s.st.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit moderation decision", "action", action, "err", err)
	}
}

// handle returns @user@host for a known actor, else the IRI.
func (s *Service) handle(ctx context.Context, actorIRI string) string {
	if a, err := s.st.RemoteActorByIRI(ctx, actorIRI); err == nil && a.PreferredUsername != "" {
		return "@" + a.PreferredUsername + "@" + a.Host
	}
	return actorIRI
}

// PublicHandle is how the public log shows an author: the handle with the
// user part shortened (GOV-6 pseudonymises private persons by default).
func PublicHandle(handle, actorIRI string) string {
	if strings.HasPrefix(handle, "@") {
		user, host, ok := strings.Cut(handle[1:], "@")
		if ok && user != "" {
			return "@" + user[:1] + "…@" + host
		}
	}
	if h := activitypub.Host(actorIRI); h != "" {
		return "…@" + h
	}
	return ""
}

func token() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ReportToAuthorServer sends the author's server a Flag about a removed
// item, citing the rule, so its moderators can act too. Only for an
// effective removal of a resident's item.
func (s *Service) ReportToAuthorServer(ctx context.Context, m Moderator, decisionID int64) (string, error) {
	d, err := s.st.Decision(ctx, decisionID)
	if err != nil {
		return "", err
	}
	if d.Action != Remove || d.State != store.DecisionEffective || d.AuthorIRI == "" || d.ObjectIRI == "" {
		return "", fmt.Errorf("%w: only a removed item can be reported to its server", ErrInvalid)
	}
	r, err := s.st.RuleVersion(ctx, d.RuleID, d.RuleVersion)
	if err != nil {
		return "", err
	}
	content := fmt.Sprintf("%s (version %d): %s", r.RuleID, r.Version, r.Text)
	if g, ok := moderation.GroundByCode(r.LegalGround); ok {
		content += " [" + g.Statute + "]"
	}
	iri, err := s.fed.FlagRemote(ctx, d.AuthorIRI, d.ObjectIRI, content)
	if err != nil {
		return "", err
	}
	payload, _ := json.Marshal(map[string]any{"flag": iri, "decision": d.ID, "content": content})
	if err := s.st.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindModeration, Category: store.KindModeration + ".flag", Direction: store.DirOut,
		GroupID: d.GroupID, Actor: store.StaffActor(m.ID, m.Name), ObjectIRI: d.ObjectIRI, Ref: fmt.Sprintf("decision:%d:flag", d.ID),
		Payload: string(payload)}); err != nil {
		return iri, fmt.Errorf("record flag for decision %d: %w", d.ID, err)
	}
	s.audit(ctx, m, "mod_flag", d.ObjectIRI, "to "+activitypub.Host(d.AuthorIRI)+" rule="+d.RuleID)
	return iri, nil
}
