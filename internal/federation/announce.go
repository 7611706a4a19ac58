package federation

import (
	"context"
	"encoding/json"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// announceIfDue announces a newly shown note to the group's followers
// when the group's mode is open (FEP-1b12): Announce of the resident's
// Create, and — since Mastodon and Pleroma cannot read Announce{Create} —
// the plain Announce of the note, the way Lemmy does. Each Announce's id
// is kept with the note, so a moderator's removal can undo it.
func (s *Service) announceIfDue(ctx context.Context, g *store.Group, n *store.RemoteNote, create []byte) error {
	if n.State != store.NoteVisible || g.DiscussionMode != store.ModeOpen || n.AnnouncedAt != nil || n.DeletedAt != nil {
		return nil
	}
	return s.Announce(ctx, g, n, create)
}

// Announce sends a note's Announces to the group's followers (also used
// when a moderator approves a held note; create may then be nil, and only
// the plain Announce of the note is sent).
func (s *Service) Announce(ctx context.Context, g *store.Group, n *store.RemoteNote, create []byte) error {
	now := s.opt.Now().UTC()
	gid := s.uris.Group(g.Slug)
	to, cc := []string{activitypub.PublicIRI}, []string{s.uris.Followers(g.Slug), n.AuthorIRI}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if len(create) > 0 {
			act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Announce", Actor: gid,
				Object: json.RawMessage(create), To: to, CC: cc, Published: now}
			if err := s.queue(ctx, tx, g, act, n.IRI, false, nil); err != nil {
				return err
			}
			if err := tx.AddNoteAnnounce(ctx, n.ID, act.ID, store.AnnounceActivity); err != nil {
				return err
			}
		}
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Announce", Actor: gid,
			Object: n.IRI, To: to, CC: cc, Published: now}
		if err := s.queue(ctx, tx, g, act, n.IRI, true, nil); err != nil {
			return err
		}
		if err := tx.AddNoteAnnounce(ctx, n.ID, act.ID, store.AnnounceObject); err != nil {
			return err
		}
		return tx.MarkRemoteNoteAnnounced(ctx, n.ID)
	})
	if err != nil {
		return err
	}
	n.AnnouncedAt = &now
	s.opt.WakeDelivery()
	return nil
}

// announceFollowUp announces the author's Update or Delete of an
// announced note, so followers see the edit or the deletion (FEP-1b12).
func (s *Service) announceFollowUp(ctx context.Context, g *store.Group, n *store.RemoteNote, activity []byte, kind string) error {
	now := s.opt.Now().UTC()
	act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Announce", Actor: s.uris.Group(g.Slug),
		Object: json.RawMessage(activity), To: []string{activitypub.PublicIRI},
		CC: []string{s.uris.Followers(g.Slug)}, Published: now}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		if kind == store.AnnounceDelete {
			if err := tx.RemoveFromOutbox(ctx, n.IRI); err != nil {
				return err
			}
		}
		if err := s.queue(ctx, tx, g, act, n.IRI, false, nil); err != nil {
			return err
		}
		return tx.AddNoteAnnounce(ctx, n.ID, act.ID, kind)
	})
	if err == nil {
		s.opt.WakeDelivery()
	}
	return err
}
