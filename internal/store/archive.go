package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// ArchiveExport is a completed archive package (REC-8): its id, the group
// (nil: every group) and period it covers and the SHA-256 of the package
// file, kept for the yearly register and for closing a group (LIV-3).
type ArchiveExport struct {
	ID         int64
	PackageID  string
	GroupID    *int64
	PeriodFrom time.Time
	PeriodTo   time.Time
	SHA256     string `gorm:"column:sha256"`
	Files      int
	CreatedBy  string
	CreatedAt  time.Time
}

// TableName is archive_exports.
func (ArchiveExport) TableName() string { return "archive_exports" }

// AddArchiveExport stores a completed export and records it.
func (s *Store) AddArchiveExport(ctx context.Context, x *ArchiveExport) error {
	return s.Tx(ctx, func(tx *Store) error {
		x.CreatedAt = tx.now()
		if err := translate(tx.ctx(ctx).Create(x).Error); err != nil {
			return fmt.Errorf("store archive export %s: %w", x.PackageID, err)
		}
		p, _ := json.Marshal(x)
		return tx.AppendRecord(ctx, &RecordEntry{Kind: KindArchiveExport, Direction: DirInternal, GroupID: x.GroupID,
			Actor: x.CreatedBy, ObjectIRI: "package:" + x.PackageID, Ref: "export:" + strconv.FormatInt(x.ID, 10), Payload: string(p)})
	})
}

// ArchiveExports lists exports, newest first.
func (s *Store) ArchiveExports(ctx context.Context, limit int) ([]ArchiveExport, error) {
	var xs []ArchiveExport
	err := s.ctx(ctx).Order("id DESC").Limit(limit).Find(&xs).Error
	return xs, err
}

// ExportCovering returns the newest export of the group (or of every
// group) whose period starts at or before from and ends at or after to.
func (s *Store) ExportCovering(ctx context.Context, groupID int64, from, to time.Time) (*ArchiveExport, error) {
	var x ArchiveExport
	err := s.ctx(ctx).Where("(group_id = ? OR group_id IS NULL) AND period_from <= ? AND period_to >= ?", groupID, from.UTC(), to.UTC()).
		Order("id DESC").Take(&x).Error
	if err := translate(err); err != nil {
		return nil, fmt.Errorf("archive export covering group %d: %w", groupID, err)
	}
	return &x, nil
}

// LastRecordAt is the time of a group's newest record entry (zero: none).
func (s *Store) LastRecordAt(ctx context.Context, groupID int64) (time.Time, error) {
	var es []RecordEntry
	if err := s.ctx(ctx).Where("group_id = ?", groupID).Order("seq DESC").Limit(1).Find(&es).Error; err != nil {
		return time.Time{}, err
	}
	if len(es) == 0 {
		return time.Time{}, nil
	}
	return es[0].At, nil
}

// MarkGroupClosed closes a group, citing the export that covered it.
func (s *Store) MarkGroupClosed(ctx context.Context, groupID, exportID int64) (time.Time, error) {
	defer s.write()()
	now := s.now()
	res := s.wctx(ctx).Model(&Group{}).Where("id = ? AND closed_at IS NULL", groupID).
		Updates(map[string]any{"closed_at": &now, "closed_export_id": exportID, "updated_at": now})
	if res.Error != nil {
		return now, fmt.Errorf("close group %d: %w", groupID, res.Error)
	}
	if res.RowsAffected == 0 {
		return now, fmt.Errorf("close group %d: %w (or already closed)", groupID, ErrNotFound)
	}
	return now, nil
}
