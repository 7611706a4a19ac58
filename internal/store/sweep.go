package store

import (
	"context"
	"fmt"
	"time"
)

// SweepCounts is what one retention sweep of technical data did (PRV-6,
// REC-7): IP addresses and user agents blanked, payloads of finished
// inbox items blanked, finished deliveries removed.
type SweepCounts struct {
	Sessions      int64 `json:"sessions_blanked"`
	LoginAttempts int64 `json:"login_attempts_blanked"`
	AuditEntries  int64 `json:"audit_entries_blanked"`
	InboxPayloads int64 `json:"inbox_payloads_blanked"`
	Deliveries    int64 `json:"deliveries_removed"`
}

// Total is the number of rows changed or removed.
func (c SweepCounts) Total() int64 {
	return c.Sessions + c.LoginAttempts + c.AuditEntries + c.InboxPayloads + c.Deliveries
}

// BlankTechnicalLogs blanks the IP addresses and user agents stored
// before ipBefore (sessions by last use, sign-in attempts, audit-log
// rows). The rows stay: who did what and when is a record; where from is
// a technical log kept for a short time.
func (s *Store) BlankTechnicalLogs(ctx context.Context, ipBefore time.Time) (SweepCounts, error) {
	var c SweepCounts
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.ctx(ctx)
		r := db.Model(&Session{}).Where("last_seen_at < ? AND (ip <> '' OR user_agent <> '')", ipBefore).
			Updates(map[string]any{"ip": "", "user_agent": ""})
		if r.Error != nil {
			return fmt.Errorf("sessions: %w", r.Error)
		}
		c.Sessions = r.RowsAffected
		r = db.Model(&LoginAttempt{}).Where("at < ? AND ip <> ''", ipBefore).Update("ip", "")
		if r.Error != nil {
			return fmt.Errorf("login attempts: %w", r.Error)
		}
		c.LoginAttempts = r.RowsAffected
		r = db.Model(&AuditEntry{}).Where("at < ? AND (ip <> '' OR user_agent <> '')", ipBefore).
			Updates(map[string]any{"ip": "", "user_agent": ""})
		if r.Error != nil {
			return fmt.Errorf("audit log: %w", r.Error)
		}
		c.AuditEntries = r.RowsAffected
		return nil
	})
	return c, err
}

// finishedInbox and finishedDeliveries are the states nothing will work
// on again.
var (
	finishedInbox      = []string{InboxProcessed, InboxIgnored, InboxFailed}
	finishedDeliveries = []string{DeliveryDone, DeliveryFailed, DeliveryGone}
)

// SweepOperational blanks the payloads of inbox items finished before
// before (the row stays, so that a replayed activity id is still
// recognised; the record keeps the activity as received) and removes
// deliveries finished before before (the record keeps the activity sent).
func (s *Store) SweepOperational(ctx context.Context, before time.Time) (SweepCounts, error) {
	var c SweepCounts
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.ctx(ctx)
		r := db.Model(&InboxItem{}).Where("status IN ? AND processed_at < ? AND raw <> ''", finishedInbox, before).Update("raw", "")
		if r.Error != nil {
			return fmt.Errorf("inbox items: %w", r.Error)
		}
		c.InboxPayloads = r.RowsAffected
		r = db.Exec("DELETE FROM deliveries WHERE status IN ? AND updated_at < ?", finishedDeliveries, before)
		if r.Error != nil {
			return fmt.Errorf("deliveries: %w", r.Error)
		}
		c.Deliveries = r.RowsAffected
		return nil
	})
	return c, err
}

// Columns lists the columns of a table (schema checks: PRV-6 asserts that
// no table of posts or received items has a column for IP addresses).
func (s *Store) Columns(ctx context.Context, table string) ([]string, error) {
	cts, err := s.ctx(ctx).Migrator().ColumnTypes(table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	out := make([]string, 0, len(cts))
	for _, c := range cts {
		out = append(out, c.Name())
	}
	return out, nil
}
