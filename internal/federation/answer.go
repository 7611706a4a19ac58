package federation

import (
	"context"
	"fmt"
	"html"
	"strings"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// Answer is a reply from a group to one resident's note (a case answer or
// a forwarding notice).
type Answer struct {
	InReplyTo    string // the resident's note
	To           string // the resident's actor IRI
	Text         string // Markdown
	Language     string // BCP 47; the group's language when empty
	Public       bool   // the question was public: so is the answer
	AuthorUserID *int64
}

// AnswerPath is where answers' ids live under a group.
const answerPath = "/answers/"

// SendAnswer federates a Note from the group, inReplyTo the resident's
// note, mentioning and addressed to the resident, and queues it for the
// resident's inbox only (a public answer is visible in the thread, not
// pushed to every follower). It returns the Note's id.
func (s *Service) SendAnswer(ctx context.Context, slug string, in Answer) (string, error) {
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	pin := PostInput{Text: in.Text, Language: in.Language}
	if err := s.validatePost(g, &pin); err != nil {
		return "", err
	}
	if in.To == "" || in.InReplyTo == "" {
		return "", fmt.Errorf("%w: an answer needs the resident and the note it answers", ErrInvalid)
	}
	a, err := s.FetchActor(ctx, in.To, false)
	if err != nil {
		return "", fmt.Errorf("answer in %s: resident's account: %w", slug, err)
	}
	r, err := s.render.Render(pin.Text)
	if err != nil {
		return "", err
	}
	name := "@" + a.PreferredUsername + "@" + a.Host
	mention := fmt.Sprintf(`<p><span class="h-card"><a href="%s" class="u-url mention">%s</a></span></p>`,
		html.EscapeString(a.IRI), html.EscapeString(name))
	now := s.opt.Now().UTC()
	id := s.uris.Group(g.Slug) + answerPath + newID(12)
	note := &activitypub.Note{ID: id, Type: "Note", AttributedTo: s.uris.Group(g.Slug), Content: mention + r.HTML,
		Language: pin.Language, InReplyTo: in.InReplyTo, To: []string{a.IRI}, Published: now, URL: id,
		Tags: []activitypub.Tag{{Type: "Mention", Href: a.IRI, Name: name}}}
	if in.Public {
		note.To, note.CC = []string{activitypub.PublicIRI}, []string{a.IRI}
	}
	act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Create", Actor: note.AttributedTo,
		Object: note, To: note.To, CC: note.CC, Published: now}
	body, err := activitypub.EncodeActivity(act)
	if err != nil {
		return "", err
	}
	inbox := a.Inbox
	if inbox == "" {
		inbox = a.SharedInbox
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		row := &store.Activity{IRI: act.ID, GroupID: &g.ID, Type: "Create", ObjectIRI: id, JSON: string(body)}
		if err := tx.InsertActivity(ctx, row); err != nil {
			return err
		}
		return tx.EnqueueDelivery(ctx, row.ID, inbox, a.Host)
	})
	if err != nil {
		return "", fmt.Errorf("answer in %s: %w", slug, err)
	}
	s.opt.WakeDelivery()
	return id, nil
}

// IsAnswerIRI reports whether iri is the id of a group's answer.
func (s *Service) IsAnswerIRI(iri string) bool {
	return s.uris.IsLocal(iri) && strings.Contains(iri, answerPath)
}

// PagesChanged invalidates cached public pages (a group's contact
// information changed).
func (s *Service) PagesChanged() { s.contentChanged() }
