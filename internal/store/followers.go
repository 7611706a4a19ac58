package store

import (
	"context"
	"fmt"
)

// Follower returns one group's follower record for actor.
func (s *Store) Follower(ctx context.Context, groupID int64, actorIRI string) (*Follower, error) {
	var f Follower
	if err := translate(s.ctx(ctx).Where("group_id = ? AND actor_iri = ?", groupID, actorIRI).Take(&f).Error); err != nil {
		return nil, fmt.Errorf("load follower %q: %w", actorIRI, err)
	}
	return &f, nil
}

// SaveFollower inserts f, or, when the actor already follows or asked to,
// updates its inbox and Follow id. An accepted follow stays accepted.
func (s *Store) SaveFollower(ctx context.Context, f *Follower) error {
	defer s.write()()
	now := s.now()
	existing, err := s.Follower(ctx, f.GroupID, f.ActorIRI)
	if err == nil {
		state := existing.State
		if f.State == FollowAccepted {
			state = FollowAccepted
		}
		err := s.wctx(ctx).Model(&Follower{}).Where("id = ?", existing.ID).Updates(map[string]any{
			"inbox": f.Inbox, "shared_inbox": f.SharedInbox, "host": f.Host, "follow_iri": f.FollowIRI,
			"state": state, "updated_at": now,
		}).Error
		if err != nil {
			return fmt.Errorf("update follower: %w", err)
		}
		f.ID, f.State, f.CreatedAt, f.UpdatedAt = existing.ID, state, existing.CreatedAt, now
		return nil
	}
	f.CreatedAt, f.UpdatedAt = now, now
	if err := translate(s.wctx(ctx).Create(f).Error); err != nil {
		return fmt.Errorf("insert follower: %w", err)
	}
	return nil
}

// SetFollowerState changes a follow's state.
func (s *Store) SetFollowerState(ctx context.Context, id int64, state string) error {
	defer s.write()()
	return s.wctx(ctx).Model(&Follower{}).Where("id = ?", id).Updates(map[string]any{"state": state, "updated_at": s.now()}).Error
}

// DeleteFollower removes one follow; it reports whether one existed.
func (s *Store) DeleteFollower(ctx context.Context, id int64) (bool, error) {
	defer s.write()()
	res := s.wctx(ctx).Where("id = ?", id).Delete(&Follower{})
	return res.RowsAffected > 0, res.Error
}

// DeleteFollowsByActor removes every follow by an actor (actor deleted).
func (s *Store) DeleteFollowsByActor(ctx context.Context, actorIRI string) (int64, error) {
	defer s.write()()
	res := s.wctx(ctx).Where("actor_iri = ?", actorIRI).Delete(&Follower{})
	return res.RowsAffected, res.Error
}

// DeleteFollowersByInbox removes followers reached through an inbox that
// answered 410 Gone (their personal inbox, or a shared inbox).
func (s *Store) DeleteFollowersByInbox(ctx context.Context, inbox string) (int64, error) {
	defer s.write()()
	res := s.wctx(ctx).Where("inbox = ? OR shared_inbox = ?", inbox, inbox).Delete(&Follower{})
	return res.RowsAffected, res.Error
}

// ListFollowers pages through a group's followers in a state, oldest first,
// after the given id.
func (s *Store) ListFollowers(ctx context.Context, groupID int64, state string, afterID int64, limit int) ([]Follower, error) {
	var fs []Follower
	err := s.ctx(ctx).Where("group_id = ? AND state = ? AND id > ?", groupID, state, afterID).Order("id").Limit(limit).Find(&fs).Error
	return fs, err
}

// CountFollowers counts a group's followers in a state.
func (s *Store) CountFollowers(ctx context.Context, groupID int64, state string) (int64, error) {
	var n int64
	err := s.ctx(ctx).Model(&Follower{}).Where("group_id = ? AND state = ?", groupID, state).Count(&n).Error
	return n, err
}

// InsertFollowers bulk-inserts followers (seeding for load tests).
func (s *Store) InsertFollowers(ctx context.Context, fs []Follower) error {
	defer s.write()()
	now := s.now()
	for i := range fs {
		fs[i].CreatedAt, fs[i].UpdatedAt = now, now
	}
	return s.wctx(ctx).CreateInBatches(fs, 500).Error
}

// HostCount is how many of a group's followers come from one server.
type HostCount struct {
	Host string
	N    int64
}

// FollowerHosts returns the servers a group's followers in a state come
// from, most followers first (then by host), at most limit of them.
func (s *Store) FollowerHosts(ctx context.Context, groupID int64, state string, limit int) ([]HostCount, error) {
	var hs []HostCount
	err := s.ctx(ctx).Model(&Follower{}).Select("host, COUNT(*) AS n").
		Where("group_id = ? AND state = ?", groupID, state).Group("host").
		Order("n DESC, host").Limit(limit).Scan(&hs).Error
	return hs, translate(err)
}
