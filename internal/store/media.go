package store

import (
	"context"
	"fmt"
)

// CreateMedia inserts an uploaded, processed image (unattached).
func (s *Store) CreateMedia(ctx context.Context, m *Media) error {
	defer s.write()()
	m.CreatedAt = s.now()
	if err := translate(s.wctx(ctx).Create(m).Error); err != nil {
		return fmt.Errorf("insert media: %w", err)
	}
	return nil
}

// MediaByPublicID loads one medium.
func (s *Store) MediaByPublicID(ctx context.Context, publicID string) (*Media, error) {
	var m Media
	if err := translate(s.ctx(ctx).Where("public_id = ?", publicID).Take(&m).Error); err != nil {
		return nil, fmt.Errorf("load media %q: %w", publicID, err)
	}
	return &m, nil
}

// MediaByID loads one medium.
func (s *Store) MediaByID(ctx context.Context, id int64) (*Media, error) {
	var m Media
	if err := translate(s.ctx(ctx).Take(&m, id).Error); err != nil {
		return nil, fmt.Errorf("load media %d: %w", id, err)
	}
	return &m, nil
}

// MediaOfPost lists a post's attached media in order.
func (s *Store) MediaOfPost(ctx context.Context, postID int64) ([]Media, error) {
	var ms []Media
	err := s.ctx(ctx).Where("post_id = ?", postID).Order("position").Find(&ms).Error
	return ms, translate(err)
}

// AttachMedia makes ms (in order, with their alt text) the post's
// attachments; media attached to the post before and not in ms are
// detached (kept, unattached). Run it in the transaction that stores the post.
func (s *Store) AttachMedia(ctx context.Context, postID int64, ms []Media) error {
	defer s.write()()
	db := s.wctx(ctx)
	if err := db.Model(&Media{}).Where("post_id = ?", postID).
		Updates(map[string]any{"post_id": nil, "position": 0}).Error; err != nil {
		return fmt.Errorf("detach media of post %d: %w", postID, err)
	}
	for i := range ms {
		ms[i].PostID, ms[i].Position = &postID, i
		res := db.Model(&Media{}).Where("id = ?", ms[i].ID).
			Updates(map[string]any{"post_id": postID, "position": i, "alt_text": ms[i].AltText})
		if err := translate(res.Error); err != nil {
			return fmt.Errorf("attach media %s: %w", ms[i].PublicID, err)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("attach media %s: %w", ms[i].PublicID, ErrNotFound)
		}
	}
	return nil
}

// SetGroupImage sets (mediaID nil: clears) a group's avatar or header
// ("avatar" or "header") with its alt text, and the medium's alt text.
func (s *Store) SetGroupImage(ctx context.Context, groupID int64, which string, mediaID *int64, alt string) error {
	defer s.write()()
	if which != "avatar" && which != "header" {
		return fmt.Errorf("set group image: unknown image %q", which)
	}
	res := s.wctx(ctx).Model(&Group{}).Where("id = ?", groupID).
		Updates(map[string]any{which + "_media_id": mediaID, which + "_alt": alt, "updated_at": s.now()})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("set group %d %s: %w", groupID, which, err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set group %d %s: %w", groupID, which, ErrNotFound)
	}
	if mediaID != nil {
		if err := s.wctx(ctx).Model(&Media{}).Where("id = ?", *mediaID).Update("alt_text", alt).Error; err != nil {
			return fmt.Errorf("set alt text of media %d: %w", *mediaID, err)
		}
	}
	return nil
}

// loadGroupImages fills g.Avatar and g.Header.
func (s *Store) loadGroupImages(ctx context.Context, g *Group) error {
	for _, im := range []struct {
		id  *int64
		dst **Media
	}{{g.AvatarMediaID, &g.Avatar}, {g.HeaderMediaID, &g.Header}} {
		*im.dst = nil
		if im.id == nil {
			continue
		}
		m, err := s.MediaByID(ctx, *im.id)
		if err != nil {
			return fmt.Errorf("load images of group %q: %w", g.Slug, err)
		}
		*im.dst = m
	}
	return nil
}
