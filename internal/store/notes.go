package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm/clause"
)

// SetDiscussionMode sets a group's discussion mode.
func (s *Store) SetDiscussionMode(ctx context.Context, groupID int64, mode string) error {
	if !ValidDiscussionMode(mode) {
		return fmt.Errorf("discussion mode %q: %w", mode, ErrConflict)
	}
	defer s.write()()
	return s.wctx(ctx).Model(&Group{}).Where("id = ?", groupID).
		Updates(map[string]any{"discussion_mode": mode, "updated_at": s.now()}).Error
}

// InsertRemoteNote stores a resident's note. A note whose IRI is already
// stored is left as it is and created is false (idempotent processing).
func (s *Store) InsertRemoteNote(ctx context.Context, n *RemoteNote) (created bool, err error) {
	defer s.write()()
	now := s.now()
	n.CreatedAt, n.UpdatedAt = now, now
	if n.Version == 0 {
		n.Version = 1
	}
	if n.PublishedAt.IsZero() {
		n.PublishedAt = now
	}
	if n.Attachments == "" {
		n.Attachments = "[]"
	}
	if n.Matches == "" {
		n.Matches = "[]"
	}
	// Written out rather than with gorm's Create, whose reflection cost
	// the inbox more than SQLite's insert itself (BenchmarkInsertNote).
	err = s.wctx(ctx).Raw(`INSERT INTO remote_notes (iri, group_id, type, author_iri, author_host, url, in_reply_to, root_iri,
	post_id, depth, summary, content_html, language, sensitive, attachments, replies_iri, via, state, verdict, matches, raw,
	version, published_at, edited_at, deleted_at, announced_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (iri) DO NOTHING RETURNING id`,
		n.IRI, n.GroupID, n.Type, n.AuthorIRI, n.AuthorHost, n.URL, n.InReplyTo, n.RootIRI,
		n.PostID, n.Depth, n.Summary, n.ContentHTML, n.Language, n.Sensitive, n.Attachments, n.RepliesIRI, n.Via, n.State, n.Verdict, n.Matches, n.Raw,
		n.Version, n.PublishedAt, n.EditedAt, n.DeletedAt, n.AnnouncedAt, n.CreatedAt, n.UpdatedAt).Row().Scan(&n.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // stored already
	}
	if err != nil {
		return false, fmt.Errorf("store note %q: %w", n.IRI, translate(err))
	}
	return true, nil
}

// RemoteNoteByIRI loads a note by its IRI.
func (s *Store) RemoteNoteByIRI(ctx context.Context, iri string) (*RemoteNote, error) {
	var n RemoteNote
	if err := translate(s.ctx(ctx).Where("iri = ?", iri).Take(&n).Error); err != nil {
		return nil, fmt.Errorf("load note %q: %w", iri, err)
	}
	return &n, nil
}

// RemoteNoteByID loads a note by row id.
func (s *Store) RemoteNoteByID(ctx context.Context, id int64) (*RemoteNote, error) {
	var n RemoteNote
	if err := translate(s.ctx(ctx).Take(&n, id).Error); err != nil {
		return nil, fmt.Errorf("load note %d: %w", id, err)
	}
	return &n, nil
}

// UpdateRemoteNoteContent stores the author's edit of a note.
func (s *Store) UpdateRemoteNoteContent(ctx context.Context, n *RemoteNote) error {
	defer s.write()()
	now := s.now()
	n.Version++
	n.EditedAt, n.UpdatedAt = &now, now
	return s.wctx(ctx).Model(&RemoteNote{}).Where("id = ?", n.ID).Updates(map[string]any{
		"summary": n.Summary, "content_html": n.ContentHTML, "language": n.Language, "sensitive": n.Sensitive,
		"attachments": n.Attachments, "raw": n.Raw, "url": n.URL, "version": n.Version, "edited_at": n.EditedAt,
		"updated_at": now, "state": n.State, "verdict": n.Verdict, "matches": n.Matches,
	}).Error
}

// MarkRemoteNoteDeleted records that the author deleted a note; the row
// stays for the record (and for the moderation log).
func (s *Store) MarkRemoteNoteDeleted(ctx context.Context, id int64) error {
	defer s.write()()
	now := s.now()
	return s.wctx(ctx).Model(&RemoteNote{}).Where("id = ? AND deleted_at IS NULL", id).
		Updates(map[string]any{"deleted_at": &now, "updated_at": now}).Error
}

// SetRemoteNoteState moves a note to another state (a moderator's decision).
func (s *Store) SetRemoteNoteState(ctx context.Context, id int64, state string) error {
	defer s.write()()
	return s.wctx(ctx).Model(&RemoteNote{}).Where("id = ?", id).
		Updates(map[string]any{"state": state, "updated_at": s.now()}).Error
}

// MarkRemoteNoteAnnounced records when the group announced a note.
func (s *Store) MarkRemoteNoteAnnounced(ctx context.Context, id int64) error {
	defer s.write()()
	now := s.now()
	return s.wctx(ctx).Model(&RemoteNote{}).Where("id = ?", id).Update("announced_at", &now).Error
}

// ThreadNotes returns the live notes of a thread in the given states,
// oldest first.
func (s *Store) ThreadNotes(ctx context.Context, rootIRI string, states []string, limit int) ([]RemoteNote, error) {
	var ns []RemoteNote
	err := s.ctx(ctx).Where("root_iri = ? AND deleted_at IS NULL AND state IN ?", rootIRI, states).
		Order("published_at, id").Limit(limit).Find(&ns).Error
	return ns, err
}

// ThreadAll returns a thread's visible live notes (at most limit) and,
// with only their ids, IRIs, parents and times, up to limit others (held,
// hidden, rejected or deleted), oldest first: the page nests the visible
// notes and needs the others to know where they hang. A flood of refused
// notes does not push visible ones off the page.
func (s *Store) ThreadAll(ctx context.Context, rootIRI string, limit int) ([]RemoteNote, error) {
	var ns, others []RemoteNote
	err := s.ctx(ctx).Where("root_iri = ? AND deleted_at IS NULL AND state = ?", rootIRI, NoteVisible).
		Order("published_at, id").Limit(limit).Find(&ns).Error
	if err != nil {
		return nil, err
	}
	err = s.ctx(ctx).Select("id", "iri", "in_reply_to", "state", "deleted_at", "published_at").
		Where("root_iri = ? AND (deleted_at IS NOT NULL OR state <> ?)", rootIRI, NoteVisible).
		Order("published_at, id").Limit(limit).Find(&others).Error
	if err != nil {
		return nil, err
	}
	out := append(ns, others...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].PublishedAt.Equal(out[j].PublishedAt) {
			return out[i].PublishedAt.Before(out[j].PublishedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RepliesTo returns the live notes answering iri in the given states,
// oldest first.
func (s *Store) RepliesTo(ctx context.Context, iri string, states []string, limit int) ([]RemoteNote, error) {
	var ns []RemoteNote
	err := s.ctx(ctx).Where("in_reply_to = ? AND deleted_at IS NULL AND state IN ?", iri, states).
		Order("published_at, id").Limit(limit).Find(&ns).Error
	return ns, err
}

// GroupNotes returns a group's live notes in the given states, newest
// first, older than beforeID (0: from the newest) — the moderation queue.
func (s *Store) GroupNotes(ctx context.Context, groupID int64, states []string, beforeID int64, limit int) ([]RemoteNote, error) {
	q := s.ctx(ctx).Where("group_id = ? AND deleted_at IS NULL AND state IN ?", groupID, states)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var ns []RemoteNote
	err := q.Order("id DESC").Limit(limit).Find(&ns).Error
	return ns, err
}

// CountThread counts the visible live notes of threads by root IRI.
func (s *Store) CountThread(ctx context.Context, rootIRIs []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(rootIRIs) == 0 {
		return out, nil
	}
	var rows []struct {
		RootIRI string `gorm:"column:root_iri"`
		N       int64
	}
	err := s.ctx(ctx).Model(&RemoteNote{}).Select("root_iri, COUNT(*) AS n").
		Where("root_iri IN ? AND deleted_at IS NULL AND state = ?", rootIRIs, NoteVisible).Group("root_iri").Scan(&rows).Error
	for _, r := range rows {
		out[r.RootIRI] = r.N
	}
	return out, err
}

// AddNoteAnnounce records an Announce the group sent about a note.
func (s *Store) AddNoteAnnounce(ctx context.Context, noteID int64, activityIRI, kind string) error {
	defer s.write()()
	a := NoteAnnounce{NoteID: noteID, ActivityIRI: activityIRI, Kind: kind, CreatedAt: s.now()}
	return translate(s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&a).Error)
}

// NoteAnnounces lists the Announces the group sent about a note.
func (s *Store) NoteAnnounces(ctx context.Context, noteID int64) ([]NoteAnnounce, error) {
	var as []NoteAnnounce
	err := s.ctx(ctx).Where("note_id = ?", noteID).Order("id").Find(&as).Error
	return as, err
}

// AddReaction stores a Like, EmojiReact or Announce; a repeated one (same
// activity, or same actor, object, type and emoji) is not counted twice.
func (s *Store) AddReaction(ctx context.Context, r *Reaction) (inserted bool, err error) {
	defer s.write()()
	r.CreatedAt = s.now()
	res := s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(r)
	if res.Error != nil {
		return false, fmt.Errorf("store reaction: %w", translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// RemoveReaction removes the reaction an actor's activity made (Undo).
func (s *Store) RemoveReaction(ctx context.Context, activityIRI, actorIRI string) (bool, error) {
	defer s.write()()
	res := s.wctx(ctx).Where("activity_iri = ? AND actor_iri = ?", activityIRI, actorIRI).Delete(&Reaction{})
	return res.RowsAffected > 0, res.Error
}

// ReactionCounts counts reactions per object and type.
type ReactionCounts struct {
	Likes, Boosts, Emoji int64
}

// CountReactions counts the reactions to each of the objects.
func (s *Store) CountReactions(ctx context.Context, objectIRIs []string) (map[string]ReactionCounts, error) {
	out := map[string]ReactionCounts{}
	if len(objectIRIs) == 0 {
		return out, nil
	}
	var rows []struct {
		ObjectIRI string `gorm:"column:object_iri"`
		Type      string
		N         int64
	}
	err := s.ctx(ctx).Model(&Reaction{}).Select("object_iri, type, COUNT(*) AS n").
		Where("object_iri IN ?", objectIRIs).Where(notErasedActors).Group("object_iri, type").Scan(&rows).Error
	for _, r := range rows {
		c := out[r.ObjectIRI]
		switch r.Type {
		case "Like":
			c.Likes = r.N
		case "Announce":
			c.Boosts = r.N
		default:
			c.Emoji += r.N
		}
		out[r.ObjectIRI] = c
	}
	return out, err
}

// AuthorStanding is what screening a note needs to know of its author.
type AuthorStanding struct {
	Known   bool // the group shows a note by the author before (a rule may trust known authors more)
	Blocked bool // an account block on the author is in force in the group or on the instance (as ActiveBlock)
	Erased  bool // a granted erasure request removed the author from public view (PRV-5)
}

// AuthorStanding answers the three questions in one query: the inbox
// asks them for every note.
func (s *Store) AuthorStanding(ctx context.Context, groupID int64, authorIRI string, at time.Time) (AuthorStanding, error) {
	var a AuthorStanding
	err := s.ctx(ctx).Raw(`SELECT
	EXISTS (SELECT 1 FROM remote_notes WHERE author_iri = ? AND group_id = ? AND state = ?),
	EXISTS (SELECT 1 FROM mod_blocks WHERE actor_iri = ? AND lifted_at IS NULL AND starts_at <= ? AND ends_at > ?
		AND (group_id IS NULL OR group_id = ?)),
	EXISTS (SELECT 1 FROM erasure_requests WHERE subject_iri = ? AND status = ?)`,
		authorIRI, groupID, NoteVisible, authorIRI, at, at, groupID, authorIRI, ErasureRemoved).Row().Scan(&a.Known, &a.Blocked, &a.Erased)
	if err != nil {
		return AuthorStanding{}, fmt.Errorf("author standing of %s: %w", authorIRI, err)
	}
	return a, nil
}

// NoteStateRank orders note states from shown to refused.
func NoteStateRank(state string) int {
	switch state {
	case NoteHeld:
		return 1
	case NoteHidden:
		return 2
	case NoteRejected:
		return 3
	case NoteErased:
		return 4
	}
	return 0
}

// PostsReplyingTo returns the group's live staff replies to any of iris,
// oldest first.
func (s *Store) PostsReplyingTo(ctx context.Context, iris []string) ([]Post, error) {
	if len(iris) == 0 {
		return nil, nil
	}
	var ps []Post
	err := s.ctx(ctx).Where("in_reply_to IN ? AND deleted_at IS NULL", iris).Order("published_at, id").Find(&ps).Error
	return ps, err
}
