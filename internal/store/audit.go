package store

import (
	"context"
	"fmt"
)

// The audit log is append-only: this file has no update or delete.

// AppendAudit adds a row to the audit log; At defaults to now.
func (s *Store) AppendAudit(ctx context.Context, e *AuditEntry) error {
	defer s.write()()
	if e.At.IsZero() {
		e.At = s.now()
	}
	if err := s.ctx(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit returns up to limit rows older than beforeID (0: the newest),
// newest first.
func (s *Store) ListAudit(ctx context.Context, beforeID int64, limit int) ([]AuditEntry, error) {
	q := s.ctx(ctx).Order("id DESC").Limit(limit)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var out []AuditEntry
	return out, q.Find(&out).Error
}
