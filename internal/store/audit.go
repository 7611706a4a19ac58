package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// The audit log is append-only: this file has no update or delete.

// AppendAudit adds a row to the audit log; At defaults to now.
// The row is also appended to the record, in the same transaction.
func (s *Store) AppendAudit(ctx context.Context, e *AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.ctx(ctx).Create(e).Error; err != nil {
			return fmt.Errorf("append audit %s: %w", e.Action, err)
		}
		// The record is hash-chained and cannot be blanked later: the IP
		// address and user agent stay only in the audit table, where the
		// retention sweep blanks them (PRV-6).
		kept := *e
		kept.IP, kept.UserAgent = "", ""
		body, err := json.Marshal(kept)
		if err != nil {
			return err
		}
		actor := "cli:" + e.Username
		if e.UserID != nil {
			actor = StaffActor(*e.UserID, e.Username)
		}
		return tx.AppendRecord(ctx, &RecordEntry{At: e.At, Kind: KindAudit, Category: KindAudit + "." + e.Action, Direction: DirInternal,
			Actor: actor, ObjectIRI: e.Target, Ref: "audit:" + strconv.FormatInt(e.ID, 10), Payload: string(body)})
	})
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
