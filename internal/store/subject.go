package store

import (
	"context"
	"fmt"
)

// FollowsByActor lists every follow (any group, any state) of a remote actor.
func (s *Store) FollowsByActor(ctx context.Context, actorIRI string) ([]Follower, error) {
	var fs []Follower
	if err := s.ctx(ctx).Where("actor_iri = ?", actorIRI).Order("id").Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("follows of %s: %w", actorIRI, err)
	}
	return fs, nil
}

// InboxItemsByActor lists every activity received from a remote actor.
func (s *Store) InboxItemsByActor(ctx context.Context, actorIRI string) ([]InboxItem, error) {
	var its []InboxItem
	if err := s.ctx(ctx).Where("actor_iri = ?", actorIRI).Order("id").Find(&its).Error; err != nil {
		return nil, fmt.Errorf("inbox items of %s: %w", actorIRI, err)
	}
	return its, nil
}

// RemoteActorByHandle finds a cached remote actor by user and host.
func (s *Store) RemoteActorByHandle(ctx context.Context, user, host string) (*RemoteActor, error) {
	var a RemoteActor
	err := translate(s.ctx(ctx).Where("LOWER(preferred_username) = LOWER(?) AND LOWER(host) = LOWER(?)", user, host).Take(&a).Error)
	if err != nil {
		return nil, fmt.Errorf("remote actor @%s@%s: %w", user, host, err)
	}
	return &a, nil
}

// RemoteNotesByAuthor lists every resident's note we keep by one author.
func (s *Store) RemoteNotesByAuthor(ctx context.Context, authorIRI string) ([]RemoteNote, error) {
	var ns []RemoteNote
	if err := s.ctx(ctx).Where("author_iri = ?", authorIRI).Order("id").Find(&ns).Error; err != nil {
		return nil, fmt.Errorf("notes of %s: %w", authorIRI, err)
	}
	return ns, nil
}

// ReactionsByActor lists every like, boost or emoji reaction of one actor.
func (s *Store) ReactionsByActor(ctx context.Context, actorIRI string) ([]Reaction, error) {
	var rs []Reaction
	if err := s.ctx(ctx).Where("actor_iri = ?", actorIRI).Order("id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", actorIRI, err)
	}
	return rs, nil
}
