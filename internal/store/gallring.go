package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Gallring (REC-2, REC-6, REC-7) is the only hard deletion of record
// rows. Call it only from internal/gallring, which checks the retention
// decision; TestNoDeleteOutsideGallring enforces both.

// GallringRule is one category to remove, entries strictly older than Before.
type GallringRule struct {
	Category string
	Before   time.Time
}

// GallringResult is what a gallring run removed and skipped.
type GallringResult struct {
	Deleted []GallringRemove
	Skipped []GallringRemove
	Log     *RecordEntry // the run's own record entry (nil on a dry run)
}

// GallraRecords removes the record entries the rules cover, except those
// under an active legal hold, and appends the run's log (decision, run
// time, count, and the sequence number and hash of every removed or
// skipped entry) to the record, all in one transaction under the record
// lock. With dryRun it only reports.
func (s *Store) GallraRecords(ctx context.Context, decision, actor string, rules []GallringRule, dryRun bool) (*GallringResult, error) {
	if decision == "" {
		return nil, errors.New("gallring refused: no retention decision id")
	}
	res := &GallringResult{}
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.lockRecord(ctx); err != nil {
			return err
		}
		held, err := tx.heldSet(ctx)
		if err != nil {
			return err
		}
		for _, r := range rules {
			var es []RecordEntry
			if err := tx.ctx(ctx).Where("category = ? AND at < ? AND kind <> ?", r.Category, r.Before.UTC(), KindGallring).
				Order("seq").Find(&es).Error; err != nil {
				return fmt.Errorf("gallring: select %s: %w", r.Category, err)
			}
			for _, e := range es {
				g := GallringRemove{Seq: e.Seq, Hash: e.EntryHash, Category: e.Category, At: e.At.UTC().Format(time.RFC3339Nano)}
				if held.covers(&e) {
					g.Reason = "skipped: legal hold"
					res.Skipped = append(res.Skipped, g)
					continue
				}
				res.Deleted = append(res.Deleted, g)
			}
		}
		if dryRun {
			return nil
		}
		p := GallringPayload{Decision: decision, RunAt: tx.now(), Count: len(res.Deleted), Deleted: res.Deleted, Skipped: res.Skipped}
		if p.Deleted == nil {
			p.Deleted = []GallringRemove{}
		}
		if p.Skipped == nil {
			p.Skipped = []GallringRemove{}
		}
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		// The log goes in before the removal, so the newest entry is never
		// removed and sequence numbers are never reused.
		res.Log = &RecordEntry{Kind: KindGallring, Direction: DirInternal, Actor: actor, ObjectIRI: "decision:" + decision, Payload: string(body)}
		if err := tx.AppendRecord(ctx, res.Log); err != nil {
			return err
		}
		seqs := make([]int64, 0, len(res.Deleted))
		for _, d := range res.Deleted {
			seqs = append(seqs, d.Seq)
		}
		for len(seqs) > 0 {
			n := min(len(seqs), 500)
			if err := tx.ctx(ctx).Exec("DELETE FROM record_entries WHERE seq IN ?", seqs[:n]).Error; err != nil {
				return fmt.Errorf("gallring: delete: %w", err)
			}
			seqs = seqs[n:]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

type holdSet struct {
	seqs    map[int64]bool
	objects map[string]bool
}

func (h holdSet) covers(e *RecordEntry) bool {
	return h.seqs[e.Seq] || (e.ObjectIRI != "" && h.objects[e.ObjectIRI])
}

func (s *Store) heldSet(ctx context.Context) (holdSet, error) {
	hs, err := s.ActiveHolds(ctx)
	if err != nil {
		return holdSet{}, fmt.Errorf("gallring: load legal holds: %w", err)
	}
	set := holdSet{seqs: map[int64]bool{}, objects: map[string]bool{}}
	for _, h := range hs {
		if h.EntrySeq != nil {
			set.seqs[*h.EntrySeq] = true
		}
		if h.ObjectIRI != "" {
			set.objects[h.ObjectIRI] = true
		}
	}
	return set, nil
}
