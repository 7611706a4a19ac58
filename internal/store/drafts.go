package store

import (
	"context"
	"fmt"
	"time"
)

// SaveDraft inserts a draft (ID 0) or updates an unpublished one's text,
// state and time. Updating a draft that was published or discarded
// meanwhile gives ErrConflict.
func (s *Store) SaveDraft(ctx context.Context, d *Draft) error {
	defer s.write()()
	now := s.now()
	d.UpdatedAt = now
	if d.ID == 0 {
		d.CreatedAt = now
		if err := translate(s.wctx(ctx).Create(d).Error); err != nil {
			return fmt.Errorf("insert draft: %w", err)
		}
		return nil
	}
	res := s.wctx(ctx).Model(&Draft{}).Where("id = ? AND state IN ?", d.ID, []string{DraftDraft, DraftScheduled}).Updates(map[string]any{
		"source": d.Source, "summary": d.Summary, "language": d.Language, "state": d.State, "scheduled_at": d.ScheduledAt,
		"author_user_id": d.AuthorUserID, "last_error": d.LastError, "media": d.Media, "attempts": 0, "locked_until": nil, "updated_at": now,
	})
	if res.Error != nil {
		return fmt.Errorf("update draft %s: %w", d.PublicID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update draft %s: %w", d.PublicID, ErrConflict)
	}
	return nil
}

// DraftByPublicID loads a draft in any state.
func (s *Store) DraftByPublicID(ctx context.Context, publicID string) (*Draft, error) {
	var d Draft
	if err := translate(s.ctx(ctx).Where("public_id = ?", publicID).Take(&d).Error); err != nil {
		return nil, fmt.Errorf("load draft %q: %w", publicID, err)
	}
	return &d, nil
}

// ListDrafts returns a group's unpublished drafts and scheduled posts:
// scheduled ones first, by time, then drafts, newest first.
func (s *Store) ListDrafts(ctx context.Context, groupID int64) ([]Draft, error) {
	var ds []Draft
	err := s.ctx(ctx).Where("group_id = ? AND state IN ?", groupID, []string{DraftDraft, DraftScheduled}).
		Order("CASE WHEN state = 'scheduled' THEN 0 ELSE 1 END, scheduled_at, id DESC").Find(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("list drafts of group %d: %w", groupID, err)
	}
	return ds, nil
}

// MarkDraftPublished records, in the transaction that creates the post,
// that the draft became post postID. Only an unpublished draft can: a
// second publisher (another node, a double click) gets ErrConflict and its
// transaction, post included, rolls back. This is what makes publishing
// exactly once.
func (s *Store) MarkDraftPublished(ctx context.Context, draftID, postID int64) error {
	defer s.write()()
	res := s.wctx(ctx).Model(&Draft{}).Where("id = ? AND state IN ?", draftID, []string{DraftDraft, DraftScheduled}).
		Updates(map[string]any{"state": DraftPublished, "post_id": postID, "locked_until": nil, "last_error": "", "updated_at": s.now()})
	if res.Error != nil {
		return fmt.Errorf("mark draft %d published: %w", draftID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("mark draft %d published: %w", draftID, ErrConflict)
	}
	return nil
}

// DiscardDraft ends an unpublished draft; ErrConflict if it was published.
func (s *Store) DiscardDraft(ctx context.Context, id int64) error {
	defer s.write()()
	res := s.wctx(ctx).Model(&Draft{}).Where("id = ? AND state IN ?", id, []string{DraftDraft, DraftScheduled}).
		Updates(map[string]any{"state": DraftDiscarded, "locked_until": nil, "updated_at": s.now()})
	if res.Error != nil {
		return fmt.Errorf("discard draft %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("discard draft %d: %w", id, ErrConflict)
	}
	return nil
}

// ClaimDueDrafts leases scheduled drafts whose time has come. A lease only
// spreads the work: MarkDraftPublished is what guarantees one publication.
func (s *Store) ClaimDueDrafts(ctx context.Context, worker string, lease time.Duration, limit int) ([]Draft, error) {
	defer s.write()()
	now := s.now()
	lock := ""
	if s.driver == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var ds []Draft
	err := s.wctx(ctx).Raw(`UPDATE drafts SET locked_until = ?, locked_by = ?
		WHERE id IN (SELECT id FROM drafts
			WHERE state = ? AND scheduled_at <= ? AND (locked_until IS NULL OR locked_until < ?)
			ORDER BY scheduled_at, id LIMIT ?`+lock+`)
		RETURNING *`, now.Add(lease), worker, DraftScheduled, now, now, limit).Scan(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("claim due drafts: %w", err)
	}
	return ds, nil
}

// RetryDraft records a failed attempt; the draft is tried again after next.
func (s *Store) RetryDraft(ctx context.Context, d *Draft, next time.Time, msg string) error {
	defer s.write()()
	return s.wctx(ctx).Exec(`UPDATE drafts SET attempts = attempts + 1, last_error = ?, locked_until = ? WHERE id = ? AND state = ?`,
		truncate(msg, 500), next.UTC(), d.ID, DraftScheduled).Error
}

// UnscheduleDraft turns a scheduled post that cannot be published (it no
// longer validates) back into a draft, with the reason for staff to read.
func (s *Store) UnscheduleDraft(ctx context.Context, d *Draft, msg string) error {
	defer s.write()()
	return s.wctx(ctx).Exec(`UPDATE drafts SET state = ?, last_error = ?, locked_until = NULL, updated_at = ? WHERE id = ? AND state = ?`,
		DraftDraft, truncate(msg, 500), s.now(), d.ID, DraftScheduled).Error
}
