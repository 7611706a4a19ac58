package store

import (
	"context"
	"time"
)

// DomainByHost loads a domain's delivery health (ErrNotFound if never seen).
func (s *Store) DomainByHost(ctx context.Context, host string) (*Domain, error) {
	var d Domain
	if err := translate(s.ctx(ctx).Where("host = ?", host).Take(&d).Error); err != nil {
		return nil, err
	}
	return &d, nil
}

// DomainSucceeded closes the breaker for host after a delivery went
// through. Hosts with no failures on record are left alone (a read, no
// write): a fan-out reaches thousands of healthy hosts.
func (s *Store) DomainSucceeded(ctx context.Context, host string) error {
	var failing int64
	if err := s.wctx(ctx).Model(&Domain{}).Where("host = ? AND (consecutive_failures > 0 OR unreachable_since IS NOT NULL)", host).
		Count(&failing).Error; err != nil || failing == 0 {
		return err
	}
	defer s.write()()
	now := s.now()
	return s.wctx(ctx).Exec(`UPDATE domains SET consecutive_failures = 0, unreachable_since = NULL, next_probe_at = NULL,
		last_success_at = ?, updated_at = ? WHERE host = ?`, now, now, host).Error
}

// DomainFailed counts a failed attempt; after threshold consecutive
// failures the breaker opens: deliveries to host wait until next probe.
// It reports whether the breaker is open.
func (s *Store) DomainFailed(ctx context.Context, host string, threshold int, probe time.Duration) (bool, error) {
	defer s.write()()
	now := s.now()
	err := s.wctx(ctx).Exec(`INSERT INTO domains (host, consecutive_failures, updated_at) VALUES (?, 1, ?)
		ON CONFLICT (host) DO UPDATE SET consecutive_failures = domains.consecutive_failures + 1, updated_at = excluded.updated_at`,
		host, now).Error
	if err != nil {
		return false, err
	}
	res := s.wctx(ctx).Exec(`UPDATE domains SET unreachable_since = COALESCE(unreachable_since, ?), next_probe_at = ?
		WHERE host = ? AND consecutive_failures >= ?`, now, now.Add(probe), host, threshold)
	return res.RowsAffected > 0, res.Error
}

// DomainSeen is called when a host contacts us with a verified request: if
// its breaker was open, it closes and its pending deliveries are due now.
func (s *Store) DomainSeen(ctx context.Context, host string) (bool, error) {
	// Nearly always the breaker is closed: find that out with a read, which
	// takes no write lock, before writing anything.
	var open int64
	if err := s.wctx(ctx).Model(&Domain{}).Where("host = ? AND unreachable_since IS NOT NULL", host).Count(&open).Error; err != nil || open == 0 {
		return false, err
	}
	defer s.write()()
	now := s.now()
	res := s.wctx(ctx).Exec(`UPDATE domains SET unreachable_since = NULL, next_probe_at = NULL, consecutive_failures = 0,
		last_seen_at = ?, updated_at = ? WHERE host = ? AND unreachable_since IS NOT NULL`, now, now, host)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	err := s.wctx(ctx).Exec(`UPDATE deliveries SET next_attempt_at = ? WHERE host = ? AND status = ? AND locked_until IS NULL`,
		now, host, DeliveryPending).Error
	return true, err
}
