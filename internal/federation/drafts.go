package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/torget/torget/internal/store"
)

// Drafts and scheduled posts. They are stored apart from posts (see
// store.Draft) and become posts only through publish, the path Publish
// takes, in the transaction that marks them published.

// ErrPublished is returned for a draft that was published or discarded
// meanwhile (by another node, another tab, the scheduler).
var ErrPublished = errors.New("the draft was already published or discarded")

// SaveDraft stores a draft for the group: a new one when id is "",
// otherwise the unpublished draft id (of the same group). With at, it is
// scheduled for that time, which must lie in the future; without, it is a
// plain draft. The text is validated as Publish validates it, so that a
// scheduled post does not fail at its time.
func (s *Service) SaveDraft(ctx context.Context, slug, id string, in PostInput, at *time.Time) (*store.Draft, error) {
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if err := s.validatePost(g, &in); err != nil {
		return nil, err
	}
	// The images are checked now as publishing checks them (alt text, the
	// group's, not attached elsewhere), so that a scheduled post does not
	// fail at its time; they stay unattached until it is published.
	if _, err := s.resolveMedia(ctx, g, 0, in.Media); err != nil {
		return nil, err
	}
	d := &store.Draft{PublicID: newID(10), GroupID: g.ID}
	if id != "" {
		if d, err = s.store.DraftByPublicID(ctx, id); err != nil {
			return nil, err
		}
		if d.GroupID != g.ID {
			return nil, fmt.Errorf("draft %q: %w", id, store.ErrNotFound)
		}
	}
	d.Source, d.Summary, d.Language, d.AuthorUserID, d.LastError = in.Text, in.Summary, in.Language, in.AuthorUserID, ""
	d.State, d.ScheduledAt = store.DraftDraft, nil
	d.Media = encodeDraftMedia(in.Media)
	if at != nil {
		t := at.UTC()
		if !t.After(s.opt.Now()) {
			return nil, fmt.Errorf("%w: the time %s has already passed", ErrInvalid, t.Format(time.RFC3339))
		}
		d.State, d.ScheduledAt = store.DraftScheduled, &t
	}
	if err := s.store.SaveDraft(ctx, d); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrPublished
		}
		return nil, err
	}
	return d, nil
}

// PublishDraft publishes a draft or scheduled post now, through Publish's
// path. However many callers race (nodes, clicks), one publishes; the
// others get ErrPublished and nothing is sent twice.
func (s *Service) PublishDraft(ctx context.Context, id string) (*store.Post, string, error) {
	d, err := s.store.DraftByPublicID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if d.State != store.DraftDraft && d.State != store.DraftScheduled {
		return nil, "", ErrPublished
	}
	g, err := s.store.GroupByID(ctx, d.GroupID)
	if err != nil {
		return nil, "", err
	}
	in := PostInput{Text: d.Source, Summary: d.Summary, Language: d.Language, AuthorUserID: d.AuthorUserID, Media: DraftMedia(d)}
	p, u, err := s.publish(ctx, g, in, func(tx *store.Store, p *store.Post) error {
		return tx.MarkDraftPublished(ctx, d.ID, p.ID)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, "", ErrPublished
	}
	return p, u, err
}

// DiscardDraft drops an unpublished draft (the row stays, marked discarded).
func (s *Service) DiscardDraft(ctx context.Context, id string) error {
	d, err := s.store.DraftByPublicID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DiscardDraft(ctx, d.ID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return ErrPublished
		}
		return err
	}
	return nil
}

func encodeDraftMedia(refs []MediaRef) string {
	if len(refs) == 0 {
		return ""
	}
	b, _ := json.Marshal(refs)
	return string(b)
}

// DraftMedia returns the images a draft will attach, with their alt text.
func DraftMedia(d *store.Draft) []MediaRef {
	if d.Media == "" {
		return nil
	}
	var refs []MediaRef
	if err := json.Unmarshal([]byte(d.Media), &refs); err != nil {
		return nil
	}
	return refs
}
