package store

import (
	"context"
	"time"
)

// RecordLoginAttempt stores one sign-in attempt.
func (s *Store) RecordLoginAttempt(ctx context.Context, username, ip string, success bool) error {
	defer s.write()()
	return s.wctx(ctx).Create(&LoginAttempt{At: s.now(), Username: username, IP: ip, Success: success}).Error
}

// RecentLoginFailures returns the times of up to limit failed attempts for
// username since since and after its last successful one, newest first.
func (s *Store) RecentLoginFailures(ctx context.Context, username string, since time.Time, limit int) ([]time.Time, error) {
	var last []time.Time
	if err := s.ctx(ctx).Model(&LoginAttempt{}).Where("username = ? AND success AND at >= ?", username, since).
		Order("at DESC").Limit(1).Pluck("at", &last).Error; err != nil {
		return nil, err
	}
	cond := "username = ? AND NOT success AND at >= ?"
	if len(last) == 1 {
		since, cond = last[0], "username = ? AND NOT success AND at > ?"
	}
	var out []time.Time
	err := s.ctx(ctx).Model(&LoginAttempt{}).Where(cond, username, since).
		Order("at DESC").Limit(limit).Pluck("at", &out).Error
	return out, err
}

// LoginFailuresFromIP counts failed attempts from ip since since.
func (s *Store) LoginFailuresFromIP(ctx context.Context, ip string, since time.Time) (int64, error) {
	var n int64
	err := s.ctx(ctx).Model(&LoginAttempt{}).Where("ip = ? AND NOT success AND at >= ?", ip, since).Count(&n).Error
	return n, err
}

// DeleteLoginAttemptsBefore prunes attempts older than t.
func (s *Store) DeleteLoginAttemptsBefore(ctx context.Context, t time.Time) error {
	defer s.write()()
	return s.wctx(ctx).Where("at < ?", t).Delete(&LoginAttempt{}).Error
}
