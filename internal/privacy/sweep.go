// Package privacy carries out data-protection duties that are not
// access exports: erasure requests decided by staff (PRV-5, PRV-7) and
// the retention sweep of technical logs and operational rows (PRV-6,
// REC-7).
package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/torget/torget/internal/store"
)

// SweepConfig sets how long technical data is kept.
type SweepConfig struct {
	IPRetention          time.Duration // IP addresses and user agents
	OperationalRetention time.Duration // finished inbox payloads and deliveries
}

// Sweep blanks IP addresses and user agents older than IPRetention,
// blanks the payloads of inbox items and removes deliveries finished
// longer than OperationalRetention ago, and, when it changed anything,
// appends what it did (counts and cut-offs) to the record.
func Sweep(ctx context.Context, st *store.Store, c SweepConfig, actor string, now time.Time) (store.SweepCounts, error) {
	if c.IPRetention <= 0 || c.OperationalRetention <= 0 {
		return store.SweepCounts{}, fmt.Errorf("privacy sweep: retention periods must be positive")
	}
	ipBefore, opsBefore := now.Add(-c.IPRetention), now.Add(-c.OperationalRetention)
	ip, err := st.BlankTechnicalLogs(ctx, ipBefore)
	if err != nil {
		return ip, fmt.Errorf("privacy sweep: %w", err)
	}
	ops, err := st.SweepOperational(ctx, opsBefore)
	if err != nil {
		return ip, fmt.Errorf("privacy sweep: %w", err)
	}
	total := ip
	total.InboxPayloads, total.Deliveries = ops.InboxPayloads, ops.Deliveries
	if total.Total() == 0 {
		return total, nil
	}
	payload, err := json.Marshal(map[string]any{"counts": total, "ip_before": ipBefore.UTC(), "operational_before": opsBefore.UTC(),
		"ip_retention": c.IPRetention.String(), "operational_retention": c.OperationalRetention.String()})
	if err != nil {
		return total, err
	}
	if err := st.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindPrivacySweep, Category: store.KindPrivacySweep, Direction: store.DirInternal,
		Actor: actor, Payload: string(payload)}); err != nil {
		return total, fmt.Errorf("privacy sweep: record: %w", err)
	}
	return total, nil
}

// Sweeper runs Sweep at an interval in the server.
type Sweeper struct {
	St       *store.Store
	Config   SweepConfig
	Interval time.Duration
	Log      *slog.Logger
}

// Run sweeps at start and then every Interval until ctx ends.
func (w *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		c, err := Sweep(ctx, w.St, w.Config, "system:privacy-sweep", w.St.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			w.Log.Error("privacy sweep", "err", err)
		case c.Total() > 0:
			w.Log.Info("privacy sweep", "sessions", c.Sessions, "login_attempts", c.LoginAttempts, "audit_entries", c.AuditEntries,
				"inbox_payloads", c.InboxPayloads, "deliveries", c.Deliveries)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
