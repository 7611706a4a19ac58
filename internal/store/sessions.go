package store

import (
	"context"
	"fmt"
	"time"
)

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	defer s.write()()
	if err := translate(s.wctx(ctx).Create(sess).Error); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// ReplaceSession deletes session oldID (if any) and stores sess in one
// transaction: the id changes whenever the session gains privilege.
func (s *Store) ReplaceSession(ctx context.Context, oldID string, sess *Session) error {
	return s.Tx(ctx, func(tx *Store) error {
		if oldID != "" {
			if err := tx.ctx(ctx).Where("id = ?", oldID).Delete(&Session{}).Error; err != nil {
				return err
			}
		}
		return tx.CreateSession(ctx, sess)
	})
}

// SessionByID loads a session by the hash of its token.
func (s *Store) SessionByID(ctx context.Context, id string) (*Session, error) {
	var sess Session
	if err := translate(s.ctx(ctx).Where("id = ?", id).Take(&sess).Error); err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	return &sess, nil
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	defer s.write()()
	return s.wctx(ctx).Model(&Session{}).Where("id = ?", id).Update("last_seen_at", at).Error
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	defer s.write()()
	return s.wctx(ctx).Where("id = ?", id).Delete(&Session{}).Error
}

// DeleteUserSessions ends every session of a user and says how many.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	defer s.write()()
	res := s.wctx(ctx).Where("user_id = ?", userID).Delete(&Session{})
	return res.RowsAffected, res.Error
}

// CountUserSessions counts a user's stored sessions.
func (s *Store) CountUserSessions(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.ctx(ctx).Model(&Session{}).Where("user_id = ?", userID).Count(&n).Error
	return n, err
}

// DeleteStaleSessions removes sessions past their absolute expiry or idle
// since before idleCutoff.
func (s *Store) DeleteStaleSessions(ctx context.Context, now, idleCutoff time.Time) error {
	defer s.write()()
	return s.wctx(ctx).Where("expires_at <= ? OR last_seen_at <= ?", now, idleCutoff).Delete(&Session{}).Error
}
