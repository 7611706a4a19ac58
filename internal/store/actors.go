package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"
)

// RemoteActorByIRI loads a cached remote actor.
func (s *Store) RemoteActorByIRI(ctx context.Context, iri string) (*RemoteActor, error) {
	var a RemoteActor
	if err := translate(s.ctx(ctx).Where("iri = ?", iri).Take(&a).Error); err != nil {
		return nil, fmt.Errorf("load actor %q: %w", iri, err)
	}
	return &a, nil
}

// RemoteActorByKeyID loads the cached actor owning a key.
func (s *Store) RemoteActorByKeyID(ctx context.Context, keyID string) (*RemoteActor, error) {
	var a RemoteActor
	if err := translate(s.ctx(ctx).Where("key_id = ?", keyID).Order("fetched_at DESC").Take(&a).Error); err != nil {
		return nil, fmt.Errorf("load key %q: %w", keyID, err)
	}
	return &a, nil
}

// UpsertRemoteActor inserts or refreshes an actor by IRI.
func (s *Store) UpsertRemoteActor(ctx context.Context, a *RemoteActor) error {
	defer s.write()()
	err := s.wctx(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "iri"}},
		DoUpdates: clause.AssignmentColumns([]string{"type", "host", "key_id", "public_key_pem", "inbox", "shared_inbox",
			"preferred_username", "name", "raw", "fetched_at", "gone_at"}),
	}).Create(a).Error
	if err != nil {
		return fmt.Errorf("store actor %q: %w", a.IRI, translate(err))
	}
	return nil
}

// MarkActorGone records that an actor was deleted.
func (s *Store) MarkActorGone(ctx context.Context, iri string) error {
	defer s.write()()
	now := s.now()
	return s.wctx(ctx).Model(&RemoteActor{}).Where("iri = ?", iri).Update("gone_at", &now).Error
}
