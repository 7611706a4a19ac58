// Package gallring runs retention (gallring, REC-2/REC-6/REC-7): it
// removes record entries that the configured retention rules citing one
// gallring decision cover, skips entries under legal hold, and logs the
// run in the record itself. It is the only caller of the store's deletion
// of record rows.
package gallring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/store"
)

// ErrNoDecision refuses a run without a decision id.
var ErrNoDecision = errors.New("gallring refused: give the id of a gallring decision (--decision)")

// Run removes what the rules citing decision cover (entries of their
// category older than their period at now). With dryRun nothing changes.
func Run(ctx context.Context, st *store.Store, rules []config.RetentionRule, decision, actor string, now time.Time, dryRun bool, log *slog.Logger) (*store.GallringResult, error) {
	if decision == "" {
		return nil, ErrNoDecision
	}
	var covered []store.GallringRule
	for _, r := range rules {
		if r.Decision != decision {
			continue
		}
		cut, err := r.Cutoff(now)
		if err != nil {
			return nil, err
		}
		covered = append(covered, store.GallringRule{Category: r.Category, Before: cut})
	}
	if len(covered) == 0 {
		return nil, fmt.Errorf("gallring refused: no [[retention]] rule cites decision %q", decision)
	}
	res, err := st.GallraRecords(ctx, decision, actor, covered, dryRun)
	if err != nil {
		return nil, err
	}
	if log != nil {
		for _, s := range res.Skipped {
			log.Info("skipped: legal hold", "decision", decision, "seq", s.Seq, "hash", s.Hash, "category", s.Category)
		}
		for _, d := range res.Deleted {
			log.Info("gallrad", "decision", decision, "seq", d.Seq, "hash", d.Hash, "category", d.Category, "dry_run", dryRun)
		}
		log.Info("gallring done", "decision", decision, "deleted", len(res.Deleted), "skipped", len(res.Skipped), "dry_run", dryRun)
	}
	return res, nil
}
