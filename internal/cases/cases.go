// Package cases turns questions to groups into tracked cases (SVC-1): an
// owner, a status, a due time from the service level, append-only staff
// notes (SVC-5), forwarding (SVC-4), reply templates (SVC-7) and the answer
// federated from the group to the resident.
package cases

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/store"
)

// Config is the service level and the directories.
type Config struct {
	DueWorkingDays int
	Location       *time.Location
	ProposalsURL   string
	MeetingsURL    string
	FeedbackURL    string
	Authorities    []Authority
}

// Authority is another authority a case can be forwarded to.
type Authority struct{ Name, URL string }

// ParseAuthorities reads config entries "Name|URL".
func ParseAuthorities(entries []string) []Authority {
	var out []Authority
	for _, e := range entries {
		if n, u, ok := strings.Cut(e, "|"); ok {
			out = append(out, Authority{Name: strings.TrimSpace(n), URL: strings.TrimSpace(u)})
		}
	}
	return out
}

// Answerer federates an answer from a group (federation.Service).
type Answerer interface {
	SendAnswer(ctx context.Context, slug string, in federation.Answer) (string, error)
}

// Service manages cases.
type Service struct {
	st   *store.Store
	fed  Answerer
	cfg  Config
	now  func() time.Time
	log  *slog.Logger
	msgs *i18n.Bundle // auto-replies, in the case's language
}

// New returns a Service; now is the clock (the store's by default).
func New(st *store.Store, fed Answerer, cfg Config, log *slog.Logger) *Service {
	if cfg.DueWorkingDays < 1 {
		cfg.DueWorkingDays = 1
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	msgs, err := i18n.New(cfg.Location)
	if err != nil { // the embedded catalogue; its tests keep it parseable
		log.Error("message catalogue for auto-replies", "err", err)
	}
	return &Service{st: st, fed: fed, cfg: cfg, now: st.Now, log: log, msgs: msgs}
}

// Config returns the service level and directories.
func (s *Service) Config() Config { return s.cfg }

// Errors of case actions.
var (
	ErrInvalid   = errors.New("invalid case action")
	ErrNotOpen   = errors.New("the case is not open")
	ErrNoChannel = errors.New("the case has no federated author to answer")
)

// DueAt is received plus the configured number of working days (Monday to
// Friday in the configured time zone): a question on Friday at 15:00 with
// one working day is due on Monday at 15:00; one on Saturday is due on
// Tuesday at 00:00 (the working day starts Monday).
func (s *Service) DueAt(received time.Time) time.Time {
	t := received.In(s.cfg.Location)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		for t.Weekday() != time.Monday {
			t = t.AddDate(0, 0, 1)
		}
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.cfg.Location)
	}
	for n := s.cfg.DueWorkingDays; n > 0; {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t.UTC()
}

var questionWords = map[string]bool{
	// sv
	"vad": true, "vem": true, "vems": true, "var": true, "vart": true, "varför": true, "när": true, "hur": true,
	"vilken": true, "vilket": true, "vilka": true, "kan": true, "får": true, "finns": true, "är": true, "ska": true,
	"går": true, "måste": true, "behöver": true, "har": true,
	// fi
	"mitä": true, "mikä": true, "kuka": true, "missä": true, "mihin": true, "miksi": true, "milloin": true,
	"miten": true, "kuinka": true, "voiko": true, "onko": true, "saako": true,
	// en
	"what": true, "who": true, "where": true, "why": true, "when": true, "how": true, "which": true,
	"can": true, "could": true, "is": true, "are": true, "do": true, "does": true, "will": true, "should": true,
}

// IsQuestion is the heuristic for public mentions: the text contains a
// sentence ending in "?" or starts with a question word (sv, fi, en).
// Staff correct it with "not a question".
func IsQuestion(text string) bool {
	t := strings.TrimSpace(text)
	if strings.Contains(t, "?") {
		return true
	}
	for len(t) > 0 && t[0] == '@' { // leading mentions
		i := strings.IndexFunc(t, unicode.IsSpace)
		if i < 0 {
			return false
		}
		t = strings.TrimSpace(t[i:])
	}
	first := strings.ToLower(strings.TrimFunc(strings.Fields(t + " x")[0], func(r rune) bool { return !unicode.IsLetter(r) }))
	return questionWords[first]
}

// FromInbound opens a case for a note addressed to a group when it is a
// question; direct messages always count. It implements
// federation.InquiryHook. A note seen before opens no second case.
func (s *Service) FromInbound(ctx context.Context, in federation.Inbound) (bool, error) {
	if !in.Direct && !IsQuestion(in.Text) {
		return false, nil
	}
	received := in.Received
	if received.IsZero() {
		received = s.now()
	}
	kind := store.CaseKindMention
	if in.Direct {
		kind = store.CaseKindDirect
	}
	gid := in.GroupID
	lang := in.Language
	if lang == "" {
		lang = DetectLanguage(in.Text)
	}
	c := &store.Case{GroupID: &gid, Kind: kind, SourceIRI: in.SourceIRI, SourceURL: in.SourceURL, AuthorIRI: in.AuthorIRI,
		AuthorHandle: in.AuthorHandle, Text: clipRunes(in.Text, 20000), Language: lang, Public: !in.Direct,
		ReceivedAt: received, DueAt: s.DueAt(received)}
	if err := s.route(ctx, c); err != nil {
		return false, err
	}
	created, err := s.st.CreateCase(ctx, c)
	if err != nil {
		return false, fmt.Errorf("open case for %s: %w", in.SourceIRI, err)
	}
	if created && in.Direct {
		if err := s.autoReply(ctx, c, in); err != nil {
			return created, err
		}
	}
	return created, nil
}

// autoReply answers a direct message that arrives outside the group's
// staffed hours, once per conversation, with the hours, the response time
// and the other channels, in the case's language (SVC-2; FL 7 §). The
// conversation is claimed before the reply is queued, so a retry never
// sends a second one.
func (s *Service) autoReply(ctx context.Context, c *store.Case, in federation.Inbound) error {
	if s.msgs == nil || c.AuthorIRI == "" {
		return nil
	}
	gc, err := s.st.GroupContactFor(ctx, in.GroupID)
	if err != nil || !gc.AutoReply {
		return err
	}
	hours, err := ParseOpenHours(gc.OpenHours)
	if err != nil || len(hours) == 0 || hours.Open(c.ReceivedAt.In(s.cfg.Location)) {
		return nil // hours were validated when saved; unusable ones mean no auto-reply
	}
	conv := in.Conversation
	if conv == "" {
		conv = firstNonEmpty(in.InReplyTo, in.SourceIRI)
	}
	first, err := s.st.ClaimAutoReply(ctx, in.GroupID, c.AuthorIRI+" "+conv, &c.ID)
	if err != nil || !first {
		return err
	}
	g, err := s.st.GroupByID(ctx, in.GroupID)
	if err != nil {
		return err
	}
	lang := c.Language
	if lang != "sv" && lang != "fi" && lang != "en" {
		lang = "sv"
	}
	l := s.msgs.Localizer(lang)
	staffed := firstNonEmpty(gc.StaffedHours, gc.OpenHours)
	parts := []string{l.T("autoreply.intro", "Group", g.Name), l.T("autoreply.hours", "Hours", staffed)}
	if gc.ResponseTime != "" {
		parts = append(parts, l.T("autoreply.response", "Time", gc.ResponseTime))
	}
	if ch := strings.TrimSpace(gc.Channels); ch != "" {
		lines := strings.Split(ch, "\n")
		for i := range lines {
			lines[i] = "- " + strings.TrimSpace(lines[i])
		}
		parts = append(parts, l.T("autoreply.channels")+"\n\n"+strings.Join(lines, "\n"))
	}
	if _, err := s.fed.SendAnswer(ctx, g.Slug, federation.Answer{InReplyTo: c.SourceIRI, To: c.AuthorIRI,
		Text: strings.Join(parts, "\n\n"), Language: lang}); err != nil {
		return fmt.Errorf("auto-reply to %s: %w", c.SourceIRI, err)
	}
	return nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// route gives a new case in a language other than Swedish to an editor of
// its group who reads that language, the one with the fewest open cases
// (SVC-8: Finnish inquiries to Finnish-speaking staff). Without one the
// case stays unassigned, as Swedish cases do.
func (s *Service) route(ctx context.Context, c *store.Case) error {
	if c.GroupID == nil || c.OwnerUserID != nil || c.Language == "" || c.Language == "sv" {
		return nil
	}
	cands, err := s.st.CaseRoutingCandidates(ctx, *c.GroupID, c.Language)
	if err != nil {
		return fmt.Errorf("route case: %w", err)
	}
	if len(cands) > 0 {
		id := cands[0].User.ID
		c.OwnerUserID = &id
		s.log.Info("case routed by language", "language", c.Language, "group_id", *c.GroupID, "owner", cands[0].User.Username)
	}
	return nil
}

// Feedback is a submission of the accessibility feedback form (ACC-3).
type Feedback struct {
	Kind     string // "problem" or "request"
	Text     string
	Contact  string // e-mail or phone, optional
	Page     string // the page concerned, optional
	Language string
}

// FromFeedback opens a case without a group for the form's submission.
func (s *Service) FromFeedback(ctx context.Context, f Feedback) (*store.Case, error) {
	text := strings.TrimSpace(f.Text)
	if text == "" {
		return nil, fmt.Errorf("%w: the message is empty", ErrInvalid)
	}
	label := "Tillgänglighetsproblem"
	if f.Kind == "request" {
		label = "Begäran om tillgängligt format"
	}
	body := label + ": " + text
	if p := strings.TrimSpace(f.Page); p != "" {
		body += "\n\nSida: " + p
	}
	now := s.now()
	c := &store.Case{Kind: store.CaseKindFeedback, RequesterContact: clipRunes(strings.TrimSpace(f.Contact), 300),
		Text: clipRunes(body, 10000), Language: f.Language, ReceivedAt: now, DueAt: s.DueAt(now)}
	if _, err := s.st.CreateCase(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// AddNote appends a staff note (author and time recorded by the store).
func (s *Service) AddNote(ctx context.Context, caseID int64, u *store.User, body string) (*store.CaseNote, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, fmt.Errorf("%w: the note is empty", ErrInvalid)
	}
	if _, err := s.st.CaseByID(ctx, caseID); err != nil {
		return nil, err
	}
	n := &store.CaseNote{CaseID: caseID, AuthorUserID: &u.ID, AuthorName: u.Username, Body: clipRunes(body, 10000)}
	if err := s.st.AddCaseNote(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// EditNote always refuses: notes are documentation of the case (FL 27 §)
// and are only ever appended to.
func (s *Service) EditNote(ctx context.Context, noteID int64, body string) error {
	return store.ErrAppendOnly
}

// SetOwner assigns the case to a staff member (nil: nobody).
func (s *Service) SetOwner(ctx context.Context, c *store.Case, userID *int64) error {
	c.OwnerUserID = userID
	return s.st.UpdateCase(ctx, c)
}

// MarkNotQuestion closes an open case as not a question (the heuristic
// was wrong); Reopen undoes it.
func (s *Service) MarkNotQuestion(ctx context.Context, c *store.Case) error {
	if !c.Open() {
		return ErrNotOpen
	}
	c.Status = store.CaseNotQuestion
	return s.st.UpdateCase(ctx, c)
}

// Reopen makes a case marked "not a question" open again.
func (s *Service) Reopen(ctx context.Context, c *store.Case) error {
	if c.Status != store.CaseNotQuestion {
		return fmt.Errorf("%w: only a case marked not a question can be reopened", ErrInvalid)
	}
	c.Status = store.CaseNew
	return s.st.UpdateCase(ctx, c)
}

// Answer federates text from the case's group to the resident, inReplyTo
// the question, and records the case as answered with the time. A
// feedback case (no federated author) records the answer given through the
// requester's own channel.
func (s *Service) Answer(ctx context.Context, c *store.Case, u *store.User, text string) error {
	if !c.Open() {
		return ErrNotOpen
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return fmt.Errorf("%w: the answer is empty", ErrInvalid)
	}
	if c.GroupID != nil && c.AuthorIRI != "" && c.SourceIRI != "" {
		g, err := s.st.GroupByID(ctx, *c.GroupID)
		if err != nil {
			return err
		}
		iri, err := s.fed.SendAnswer(ctx, g.Slug, federation.Answer{InReplyTo: c.SourceIRI, To: c.AuthorIRI, Text: text,
			Language: c.Language, Public: c.Public, AuthorUserID: &u.ID})
		if err != nil {
			return err
		}
		c.AnswerIRI = iri
	}
	now := s.now()
	c.Status, c.AnsweredAt, c.AnswerText = store.CaseAnswered, &now, text
	if c.OwnerUserID == nil {
		c.OwnerUserID = &u.ID
	}
	return s.st.UpdateCase(ctx, c)
}

// Forward sends the case to another group (it lands in that group's case
// list) or to an authority of the directory, records the reason, and tells
// the resident where it went. Exactly one of toSlug and authority is set.
func (s *Service) Forward(ctx context.Context, c *store.Case, u *store.User, toSlug, authority, reason string) (*store.Case, error) {
	if !c.Open() {
		return nil, ErrNotOpen
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, fmt.Errorf("%w: give the reason for forwarding", ErrInvalid)
	}
	var target string
	var moved *store.Case
	switch {
	case toSlug != "" && authority == "":
		g, err := s.st.GroupBySlug(ctx, toSlug)
		if err != nil {
			return nil, fmt.Errorf("%w: no group %q", ErrInvalid, toSlug)
		}
		if c.GroupID != nil && *c.GroupID == g.ID {
			return nil, fmt.Errorf("%w: the case is already in %s", ErrInvalid, g.Name)
		}
		target = g.Name
		now := s.now()
		from := c.ID
		moved = &store.Case{GroupID: &g.ID, Kind: store.CaseKindForwarded, SourceIRI: c.SourceIRI, SourceURL: c.SourceURL,
			AuthorIRI: c.AuthorIRI, AuthorHandle: c.AuthorHandle, RequesterContact: c.RequesterContact, Text: c.Text,
			Language: c.Language, Public: c.Public, ReceivedAt: now, DueAt: s.DueAt(now), ForwardedFrom: &from}
	case authority != "" && toSlug == "":
		for _, a := range s.cfg.Authorities {
			if a.Name == authority {
				target = a.Name + " (" + a.URL + ")"
			}
		}
		if target == "" {
			return nil, fmt.Errorf("%w: %q is not in the directory of authorities", ErrInvalid, authority)
		}
	default:
		return nil, fmt.Errorf("%w: choose one group or one authority", ErrInvalid)
	}
	if c.GroupID != nil && c.AuthorIRI != "" && c.SourceIRI != "" {
		g, err := s.st.GroupByID(ctx, *c.GroupID)
		if err != nil {
			return nil, err
		}
		notice := ForwardNotice(c.Language, target, s.now().In(s.cfg.Location))
		if _, err := s.fed.SendAnswer(ctx, g.Slug, federation.Answer{InReplyTo: c.SourceIRI, To: c.AuthorIRI, Text: notice,
			Language: c.Language, Public: c.Public, AuthorUserID: &u.ID}); err != nil {
			return nil, err
		}
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		if moved != nil {
			// The same source may reach the target group once only.
			if _, err := tx.CreateCase(ctx, moved); err != nil {
				return err
			}
		}
		c.Status, c.ForwardedTo, c.ForwardReason = store.CaseForwarded, target, clipRunes(reason, 2000)
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	return moved, nil
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
