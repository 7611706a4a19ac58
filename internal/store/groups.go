package store

import (
	"context"
	"fmt"
)

// CreateGroup inserts g. A duplicate slug gives ErrConflict.
func (s *Store) CreateGroup(ctx context.Context, g *Group) error {
	defer s.write()()
	now := s.now()
	g.CreatedAt, g.UpdatedAt = now, now
	if g.DiscussionMode == "" {
		g.DiscussionMode = ModeAnnouncements
	}
	if err := translate(s.wctx(ctx).Create(g).Error); err != nil {
		return fmt.Errorf("create group %q: %w", g.Slug, err)
	}
	return nil
}

// GroupBySlug loads one group.
func (s *Store) GroupBySlug(ctx context.Context, slug string) (*Group, error) {
	var g Group
	if err := translate(s.ctx(ctx).Where("slug = ?", slug).Take(&g).Error); err != nil {
		return nil, fmt.Errorf("load group %q: %w", slug, err)
	}
	if err := s.loadGroupImages(ctx, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// GroupByID loads one group.
func (s *Store) GroupByID(ctx context.Context, id int64) (*Group, error) {
	var g Group
	if err := translate(s.ctx(ctx).Take(&g, id).Error); err != nil {
		return nil, fmt.Errorf("load group %d: %w", id, err)
	}
	if err := s.loadGroupImages(ctx, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// ListGroups returns all groups by slug.
func (s *Store) ListGroups(ctx context.Context) ([]Group, error) {
	var gs []Group
	if err := s.ctx(ctx).Order("slug").Find(&gs).Error; err != nil {
		return nil, translate(err)
	}
	for i := range gs {
		if err := s.loadGroupImages(ctx, &gs[i]); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// CountGroups counts groups.
func (s *Store) CountGroups(ctx context.Context) (int64, error) {
	var n int64
	err := s.ctx(ctx).Model(&Group{}).Count(&n).Error
	return n, err
}

// UpdateGroup stores a group's editable profile: name, purpose, summary,
// language, website, owning unit, profile fields and manual approval. The slug and the key pair never
// change (peers refuse a changed key). It sets g.UpdatedAt.
func (s *Store) UpdateGroup(ctx context.Context, g *Group) error {
	defer s.write()()
	now := s.now()
	res := s.wctx(ctx).Model(&Group{}).Where("id = ?", g.ID).Updates(map[string]any{
		"name": g.Name, "purpose": g.Purpose, "summary": g.Summary, "language": g.Language,
		"website_url": g.WebsiteURL, "manual_approval": g.ManualApproval, "owning_unit": g.OwningUnit, "fields": g.Fields,
		"updated_at": now,
	})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("update group %q: %w", g.Slug, err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update group %q: %w", g.Slug, ErrNotFound)
	}
	g.UpdatedAt = now
	return nil
}

// FillOwningUnit gives every group without an owning unit the given one
// (groups created before owning units existed get the instance operator).
func (s *Store) FillOwningUnit(ctx context.Context, unit string) error {
	defer s.write()()
	if err := s.wctx(ctx).Exec("UPDATE groups SET owning_unit = ? WHERE owning_unit = ''", unit).Error; err != nil {
		return fmt.Errorf("fill owning units: %w", err)
	}
	return nil
}
