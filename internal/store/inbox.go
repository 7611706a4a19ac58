package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// InsertInboxItem stores a received activity. An activity id seen before
// is not stored again: inserted is false (idempotent delivery).
func (s *Store) InsertInboxItem(ctx context.Context, it *InboxItem) (inserted bool, err error) {
	defer s.write()()
	now := s.now()
	it.ReceivedAt, it.NextAttemptAt = now, now
	if it.Status == "" {
		it.Status = InboxPending
	}
	res := s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(it)
	if res.Error != nil {
		return false, fmt.Errorf("store inbox item: %w", translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// ClaimInboxItems leases due inbox items for processing.
func (s *Store) ClaimInboxItems(ctx context.Context, worker string, lease time.Duration, limit int) ([]InboxItem, error) {
	defer s.write()()
	now := s.now()
	lock := ""
	if s.driver == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var items []InboxItem
	err := s.wctx(ctx).Raw(`UPDATE inbox_items SET locked_until = ?, locked_by = ?
		WHERE id IN (SELECT id FROM inbox_items
			WHERE status = ? AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
			ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		RETURNING *`, now.Add(lease), worker, InboxPending, now, now, limit).Scan(&items).Error
	if err != nil {
		return nil, fmt.Errorf("claim inbox items: %w", err)
	}
	// In the order received: RETURNING keeps no order (PostgreSQL's
	// differs from the subquery's).
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	return items, nil
}

// InboxOutcome is how processing an inbox item ended.
type InboxOutcome struct {
	ID             int64
	Status, Reason string
}

// FinishInboxItems records the outcomes of a batch in one statement (one
// write instead of one per item, the inbox runner's last step).
func (s *Store) FinishInboxItems(ctx context.Context, outs []InboxOutcome) error {
	if len(outs) == 0 {
		return nil
	}
	defer s.write()()
	now := s.now()
	for len(outs) > 0 {
		chunk := outs[:min(len(outs), 500)]
		outs = outs[len(chunk):]
		var sb strings.Builder
		args := make([]any, 0, 1+len(chunk)*3)
		args = append(args, now)
		sb.WriteString(`UPDATE inbox_items SET status = v.status, reason = v.reason, processed_at = ?, locked_until = NULL
FROM (SELECT column1 AS id, column2 AS status, column3 AS reason FROM (VALUES `)
		for i, o := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT))") // typed for PostgreSQL
			args = append(args, o.ID, o.Status, truncate(o.Reason, 500))
		}
		sb.WriteString(`) AS vals) AS v WHERE inbox_items.id = v.id`)
		if err := s.wctx(ctx).Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("finish %d inbox items: %w", len(chunk), err)
		}
	}
	return nil
}

// RetryInboxItem schedules processing again (e.g. a fetch failed).
func (s *Store) RetryInboxItem(ctx context.Context, it *InboxItem, next time.Time, reason string) error {
	defer s.write()()
	return s.wctx(ctx).Exec(`UPDATE inbox_items SET attempts = ?, next_attempt_at = ?, reason = ?, locked_until = NULL WHERE id = ?`,
		it.Attempts+1, next.UTC(), truncate(reason, 500), it.ID).Error
}

// InboxItemByIRI loads a received activity by its id.
func (s *Store) InboxItemByIRI(ctx context.Context, iri string) (*InboxItem, error) {
	var it InboxItem
	if err := translate(s.ctx(ctx).Where("activity_iri = ?", iri).Take(&it).Error); err != nil {
		return nil, fmt.Errorf("load inbox item %q: %w", iri, err)
	}
	return &it, nil
}

// InboxCounts counts inbox items by status.
func (s *Store) InboxCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.ctx(ctx).Model(&InboxItem{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}

// InsertInboxItems stores several received activities with one statement
// and one commit (one fsync): inserted[i] says whether items[i] was new.
func (s *Store) InsertInboxItems(ctx context.Context, items []*InboxItem) ([]bool, error) {
	defer s.write()()
	now := s.now()
	inserted := make([]bool, len(items))
	var sb strings.Builder
	sb.WriteString(`INSERT INTO inbox_items (activity_iri, group_id, actor_iri, key_id, type, raw, status, reason, attempts, next_attempt_at, locked_by, received_at) VALUES `)
	args := make([]any, 0, len(items)*12)
	seen := map[string]int{}
	for i, it := range items {
		it.ReceivedAt, it.NextAttemptAt = now, now
		if it.Status == "" {
			it.Status = InboxPending
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, ?, ?, ?, ?, ?, '', 0, ?, '', ?)")
		args = append(args, it.ActivityIRI, it.GroupID, it.ActorIRI, it.KeyID, it.Type, it.Raw, it.Status, now, now)
		if it.ActivityIRI == nil {
			inserted[i] = true // id-less activities are never duplicates
		} else if _, dup := seen[*it.ActivityIRI]; !dup {
			seen[*it.ActivityIRI] = i
		}
	}
	sb.WriteString(" ON CONFLICT DO NOTHING RETURNING activity_iri")
	var rows []struct{ ActivityIRI *string }
	if err := s.wctx(ctx).Raw(sb.String(), args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store inbox items: %w", translate(err))
	}
	for _, r := range rows {
		if r.ActivityIRI != nil {
			// The first of several copies in one batch is the new one.
			inserted[seen[*r.ActivityIRI]] = true
		}
	}
	return inserted, nil
}
