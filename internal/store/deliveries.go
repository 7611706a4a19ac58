package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// EnqueueFollowers writes one pending delivery of activity to every
// accepted follower of group, one per shared inbox (or personal inbox when
// the server has none). Run it in the transaction that creates the activity.
func (s *Store) EnqueueFollowers(ctx context.Context, activityID, groupID int64) (int64, error) {
	defer s.write()()
	now := s.now()
	res := s.wctx(ctx).Exec(`INSERT INTO deliveries (activity_id, inbox, host, status, attempts, next_attempt_at, created_at, updated_at)
		SELECT ?, target, MIN(host), ?, 0, ?, ?, ?
		FROM (SELECT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END AS target, host
		      FROM followers WHERE group_id = ? AND state = ?) t
		GROUP BY target
		ON CONFLICT (activity_id, inbox) DO NOTHING`,
		activityID, DeliveryPending, now, now, now, groupID, FollowAccepted)
	if res.Error != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// EnqueueDelivery writes one pending delivery (e.g. an Accept to one actor).
func (s *Store) EnqueueDelivery(ctx context.Context, activityID int64, inbox, host string) error {
	defer s.write()()
	now := s.now()
	d := Delivery{ActivityID: activityID, Inbox: inbox, Host: host, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	err := s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&d).Error
	if err != nil {
		return fmt.Errorf("enqueue delivery: %w", err)
	}
	return nil
}

// ClaimDeliveries leases up to limit due deliveries for worker until
// now+lease. Hosts whose circuit breaker is open are skipped until their
// next probe. On PostgreSQL concurrent claimers skip each other's rows.
func (s *Store) ClaimDeliveries(ctx context.Context, worker string, lease time.Duration, limit int) ([]Delivery, error) {
	defer s.write()()
	now := s.now()
	lock := ""
	if s.driver == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var ds []Delivery
	err := s.wctx(ctx).Raw(`UPDATE deliveries SET locked_until = ?, locked_by = ?
		WHERE id IN (SELECT id FROM deliveries
			WHERE status = ? AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
			AND host NOT IN (SELECT host FROM domains WHERE unreachable_since IS NOT NULL AND next_probe_at > ?)
			ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		RETURNING *`, now.Add(lease), worker, DeliveryPending, now, now, now, limit).Scan(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return ds, nil
}

// FinishDelivery records a final state (done, failed, gone) for a leased row.
// Plain SQL: this runs once per delivery, on the fan-out's hot path.
func (s *Store) FinishDelivery(ctx context.Context, d *Delivery, worker, status string, code int, msg string) error {
	defer s.write()()
	return s.wctx(ctx).Exec(`UPDATE deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, locked_until = NULL, updated_at = ?
		WHERE id = ? AND locked_by = ?`, status, d.Attempts+1, code, truncate(msg, 500), s.now(), d.ID, worker).Error
}

// RetryDelivery schedules another attempt for a leased row.
func (s *Store) RetryDelivery(ctx context.Context, d *Delivery, worker string, next time.Time, code int, msg string) error {
	defer s.write()()
	return s.wctx(ctx).Exec(`UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, locked_until = NULL, updated_at = ?
		WHERE id = ? AND locked_by = ?`, d.Attempts+1, next.UTC(), code, truncate(msg, 500), s.now(), d.ID, worker).Error
}

// DeliveriesFor lists the deliveries of one activity.
func (s *Store) DeliveriesFor(ctx context.Context, activityID int64) ([]Delivery, error) {
	var ds []Delivery
	err := s.ctx(ctx).Where("activity_id = ?", activityID).Order("id").Find(&ds).Error
	return ds, err
}

// DeliveryCounts counts deliveries by status.
func (s *Store) DeliveryCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.ctx(ctx).Model(&Delivery{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}

// NextDeliveryDue is the earliest next_attempt_at of pending deliveries.
func (s *Store) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var ds []Delivery
	err := s.ctx(ctx).Where("status = ?", DeliveryPending).Order("next_attempt_at").Limit(1).Find(&ds).Error
	if err != nil || len(ds) == 0 {
		return time.Time{}, false, err
	}
	return ds[0].NextAttemptAt, true, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
