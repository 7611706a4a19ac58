package store

import (
	"context"
	"fmt"
	"strings"
)

// CreatePost inserts a post and its first version.
func (s *Store) CreatePost(ctx context.Context, p *Post) error {
	defer s.write()()
	now := s.now()
	p.CreatedAt, p.UpdatedAt, p.Version = now, now, 1
	if p.PublishedAt.IsZero() {
		p.PublishedAt = now
	}
	if err := translate(s.wctx(ctx).Create(p).Error); err != nil {
		return fmt.Errorf("insert post: %w", err)
	}
	return s.addVersion(ctx, p)
}

func (s *Store) addVersion(ctx context.Context, p *Post) error {
	v := PostVersion{PostID: p.ID, Version: p.Version, Source: p.Source, ContentHTML: p.ContentHTML, Summary: p.Summary,
		Language: p.Language, Mentions: p.Mentions, Attachments: p.Attachments, AuthorUserID: p.AuthorUserID, CreatedAt: s.now()}
	if err := translate(s.ctx(ctx).Create(&v).Error); err != nil {
		return fmt.Errorf("insert post version: %w", err)
	}
	return nil
}

// UpdatePost stores an edit as a new version.
func (s *Store) UpdatePost(ctx context.Context, p *Post) error {
	defer s.write()()
	now := s.now()
	p.Version++
	p.EditedAt, p.UpdatedAt = &now, now
	err := s.wctx(ctx).Model(&Post{}).Where("id = ?", p.ID).Updates(map[string]any{
		"source": p.Source, "content_html": p.ContentHTML, "summary": p.Summary, "language": p.Language, "mentions": p.Mentions,
		"attachments": p.Attachments, "version": p.Version, "edited_at": p.EditedAt, "updated_at": now, "author_user_id": p.AuthorUserID,
	}).Error
	if err != nil {
		return fmt.Errorf("update post: %w", err)
	}
	return s.addVersion(ctx, p)
}

// MarkPostDeleted hides a post; the row and its versions stay for the record.
func (s *Store) MarkPostDeleted(ctx context.Context, id int64) error {
	defer s.write()()
	now := s.now()
	return s.wctx(ctx).Model(&Post{}).Where("id = ?", id).Updates(map[string]any{"deleted_at": &now, "updated_at": now}).Error
}

// PostByPublicID loads a post, deleted or not.
func (s *Store) PostByPublicID(ctx context.Context, publicID string) (*Post, error) {
	var p Post
	if err := translate(s.ctx(ctx).Where("public_id = ?", publicID).Take(&p).Error); err != nil {
		return nil, fmt.Errorf("load post %q: %w", publicID, err)
	}
	return &p, nil
}

// ListPosts returns a group's live posts, newest first, before the given
// id (0: from the newest).
func (s *Store) ListPosts(ctx context.Context, groupID int64, beforeID int64, limit int) ([]Post, error) {
	q := s.ctx(ctx).Where("group_id = ? AND deleted_at IS NULL", groupID)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var ps []Post
	err := q.Order("id DESC").Limit(limit).Find(&ps).Error
	return ps, err
}

// CountPosts counts live posts (groupID 0: all groups).
func (s *Store) CountPosts(ctx context.Context, groupID int64) (int64, error) {
	q := s.ctx(ctx).Model(&Post{}).Where("deleted_at IS NULL")
	if groupID > 0 {
		q = q.Where("group_id = ?", groupID)
	}
	var n int64
	err := q.Count(&n).Error
	return n, err
}

// SetPinned pins or unpins a post.
func (s *Store) SetPinned(ctx context.Context, id int64, pinned bool) error {
	defer s.write()()
	var v any
	if pinned {
		now := s.now()
		v = &now
	}
	return s.wctx(ctx).Model(&Post{}).Where("id = ?", id).Update("pinned_at", v).Error
}

// PinnedPosts lists a group's pinned live posts, latest pinned first.
func (s *Store) PinnedPosts(ctx context.Context, groupID int64) ([]Post, error) {
	var ps []Post
	err := s.ctx(ctx).Where("group_id = ? AND pinned_at IS NOT NULL AND deleted_at IS NULL", groupID).Order("pinned_at DESC").Find(&ps).Error
	return ps, err
}

// PostsMentioningText returns live posts whose source contains text
// (case-insensitive), newest first; callers refine the match.
func (s *Store) PostsMentioningText(ctx context.Context, text string, limit int) ([]Post, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(text))
	var ps []Post
	err := s.ctx(ctx).Where(`deleted_at IS NULL AND LOWER(source) LIKE ? ESCAPE '\'`, "%"+esc+"%").Order("id DESC").Limit(limit).Find(&ps).Error
	return ps, err
}
