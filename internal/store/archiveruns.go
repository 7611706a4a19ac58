package store

import (
	"context"
	"fmt"
	"time"
)

// Archive run states.
const (
	ArchiveRunPending = "pending" // to do, or to retry at next_at after a failure
	ArchiveRunDone    = "done"
)

// ArchiveRun is one scheduled export (REC-8 "scheduled yearly"): a group
// and a period, made once by whichever node leases it first. A failed
// attempt keeps its error and is retried at NextAt.
type ArchiveRun struct {
	ID          int64
	GroupID     int64
	PeriodFrom  time.Time
	PeriodTo    time.Time
	State       string
	Attempts    int
	NextAt      time.Time
	LockedBy    string
	LockedUntil *time.Time
	LastError   string
	ExportID    *int64
	PackageID   string
	SHA256      string `gorm:"column:sha256"`
	Path        string // the package folder under archive.dir
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName is archive_runs.
func (ArchiveRun) TableName() string { return "archive_runs" }

// EnsureArchiveRuns adds a pending run of [from, to) for every group that
// existed before to and was not closed before from; existing runs are
// kept as they are. It returns how many were added.
func (s *Store) EnsureArchiveRuns(ctx context.Context, from, to time.Time) (int, error) {
	defer s.write()()
	now := s.now()
	res := s.wctx(ctx).Exec(`INSERT INTO archive_runs (group_id, period_from, period_to, state, attempts, next_at, created_at, updated_at)
		SELECT id, ?, ?, ?, 0, ?, ?, ? FROM groups WHERE created_at < ? AND (closed_at IS NULL OR closed_at >= ?)
		ON CONFLICT (group_id, period_from, period_to) DO NOTHING`,
		from.UTC(), to.UTC(), ArchiveRunPending, now, now, now, to.UTC(), from.UTC())
	if res.Error != nil {
		return 0, fmt.Errorf("ensure archive runs: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// ClaimArchiveRuns leases pending runs that are due. The lease keeps other
// nodes off a run while it is exported; FinishArchiveRun ends it.
func (s *Store) ClaimArchiveRuns(ctx context.Context, worker string, lease time.Duration, limit int) ([]ArchiveRun, error) {
	defer s.write()()
	now := s.now()
	lock := ""
	if s.driver == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var rs []ArchiveRun
	err := s.wctx(ctx).Raw(`UPDATE archive_runs SET locked_until = ?, locked_by = ?
		WHERE id IN (SELECT id FROM archive_runs
			WHERE state = ? AND next_at <= ? AND (locked_until IS NULL OR locked_until < ?)
			ORDER BY next_at, id LIMIT ?`+lock+`)
		RETURNING *`, now.Add(lease), worker, ArchiveRunPending, now, now, limit).Scan(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("claim archive runs: %w", err)
	}
	return rs, nil
}

// FinishArchiveRun marks a run done with the export that made it.
func (s *Store) FinishArchiveRun(ctx context.Context, r *ArchiveRun, x *ArchiveExport, path string) error {
	defer s.write()()
	return s.wctx(ctx).Exec(`UPDATE archive_runs SET state = ?, attempts = attempts + 1, export_id = ?, package_id = ?, sha256 = ?, path = ?,
		last_error = '', locked_until = NULL, updated_at = ? WHERE id = ?`,
		ArchiveRunDone, x.ID, x.PackageID, x.SHA256, path, s.now(), r.ID).Error
}

// RetryArchiveRun records a failed attempt; the run is due again at next.
func (s *Store) RetryArchiveRun(ctx context.Context, r *ArchiveRun, next time.Time, msg string) error {
	defer s.write()()
	return s.wctx(ctx).Exec(`UPDATE archive_runs SET attempts = attempts + 1, last_error = ?, next_at = ?, locked_until = NULL, updated_at = ?
		WHERE id = ? AND state = ?`, truncate(msg, 500), next.UTC(), s.now(), r.ID, ArchiveRunPending).Error
}

// ArchiveRuns lists scheduled runs, newest period first.
func (s *Store) ArchiveRuns(ctx context.Context, limit int) ([]ArchiveRun, error) {
	var rs []ArchiveRun
	err := s.ctx(ctx).Order("period_from DESC, group_id").Limit(limit).Find(&rs).Error
	return rs, err
}
