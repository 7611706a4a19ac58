package store

import (
	"context"
	"fmt"
)

// InsertActivity stores an activity we publish.
func (s *Store) InsertActivity(ctx context.Context, a *Activity) error {
	defer s.write()()
	a.CreatedAt = s.now()
	if err := translate(s.wctx(ctx).Create(a).Error); err != nil {
		return fmt.Errorf("insert activity %s: %w", a.IRI, err)
	}
	return nil
}

// ActivityByIRI loads a published activity.
func (s *Store) ActivityByIRI(ctx context.Context, iri string) (*Activity, error) {
	var a Activity
	if err := translate(s.ctx(ctx).Where("iri = ?", iri).Take(&a).Error); err != nil {
		return nil, fmt.Errorf("load activity %q: %w", iri, err)
	}
	return &a, nil
}

// ActivityByID loads a published activity by row id.
func (s *Store) ActivityByID(ctx context.Context, id int64) (*Activity, error) {
	var a Activity
	if err := translate(s.ctx(ctx).Take(&a, id).Error); err != nil {
		return nil, fmt.Errorf("load activity %d: %w", id, err)
	}
	return &a, nil
}

// OutboxPage returns a group's outbox activities, newest first, older
// than beforeID (0: from the newest).
func (s *Store) OutboxPage(ctx context.Context, groupID, beforeID int64, limit int) ([]Activity, error) {
	q := s.ctx(ctx).Where("group_id = ? AND in_outbox = ?", groupID, true)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var as []Activity
	err := q.Order("id DESC").Limit(limit).Find(&as).Error
	return as, err
}

// CountOutbox counts a group's outbox.
func (s *Store) CountOutbox(ctx context.Context, groupID int64) (int64, error) {
	var n int64
	err := s.ctx(ctx).Model(&Activity{}).Where("group_id = ? AND in_outbox = ?", groupID, true).Count(&n).Error
	return n, err
}

// RemoveFromOutbox takes the activities about an object out of the outbox
// (after a Delete). The rows stay for the record.
func (s *Store) RemoveFromOutbox(ctx context.Context, objectIRI string) error {
	defer s.write()()
	return s.wctx(ctx).Model(&Activity{}).Where("object_iri = ?", objectIRI).Update("in_outbox", false).Error
}
