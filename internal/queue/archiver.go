package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/torget/torget/internal/store"
)

// ArchiveExportFunc exports one scheduled run: the package of the run's
// group and period, written under the archive folder.
type ArchiveExportFunc func(ctx context.Context, r *store.ArchiveRun) (x *store.ArchiveExport, path string, err error)

// Archiver makes the scheduled yearly archive exports (REC-8): once the
// configured day of the year has come (in the instance's time zone), one
// package per group of the previous calendar year. The runs are rows
// (archive_runs), so the schedule survives restarts; each is leased, so
// that of several nodes one makes it; a failed run keeps its error and is
// retried with back-off.
type Archiver struct {
	st     *store.Store
	export ArchiveExportFunc
	log    *slog.Logger
	loc    *time.Location
	month  time.Month
	day    int
	poll   time.Duration
	lease  time.Duration
	retry  time.Duration // first retry delay; doubles up to a day
	worker string
}

// NewArchiver returns an archiver exporting on month/day in loc.
func NewArchiver(st *store.Store, export ArchiveExportFunc, log *slog.Logger, loc *time.Location, month time.Month, day int, poll, lease time.Duration) *Archiver {
	if poll <= 0 {
		poll = 10 * time.Minute
	}
	if lease <= 0 {
		lease = time.Hour
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Archiver{st: st, export: export, log: log, loc: loc, month: month, day: day, poll: poll, lease: lease,
		retry: 5 * time.Minute, worker: workerID()}
}

// Period is the calendar year before now's year in the archiver's time
// zone, and whether its export is due (the configured day has come).
func (a *Archiver) Period(now time.Time) (from, to time.Time, due bool) {
	l := now.In(a.loc)
	to = time.Date(l.Year(), time.January, 1, 0, 0, 0, 0, a.loc)
	from = to.AddDate(-1, 0, 0)
	at := time.Date(l.Year(), a.month, a.day, 0, 0, 0, 0, a.loc)
	return from, to, !l.Before(at)
}

// Run works until ctx ends; the export in hand is finished.
func (a *Archiver) Run(ctx context.Context) {
	inflight := context.WithoutCancel(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if _, err := a.RunOnce(ctx, inflight); err != nil && ctx.Err() == nil {
			a.log.Error("scheduled archive export", "err", err)
		}
		timer.Reset(a.poll)
	}
}

// RunOnce adds the runs that are due and makes those this node can
// lease; it returns how many exports it made.
func (a *Archiver) RunOnce(ctx, inflight context.Context) (int, error) {
	if from, to, due := a.Period(a.st.Now()); due {
		if n, err := a.st.EnsureArchiveRuns(ctx, from, to); err != nil {
			return 0, err
		} else if n > 0 {
			a.log.Info("scheduled archive exports added", "runs", n, "from", from, "to", to)
		}
	}
	made := 0
	for ctx.Err() == nil {
		rs, err := a.st.ClaimArchiveRuns(ctx, a.worker, a.lease, 1)
		if err != nil || len(rs) == 0 {
			return made, err
		}
		if a.run(inflight, &rs[0]) {
			made++
		}
	}
	return made, nil
}

func (a *Archiver) run(ctx context.Context, r *store.ArchiveRun) bool {
	log := a.log.With("run", r.ID, "group_id", r.GroupID, "from", r.PeriodFrom, "to", r.PeriodTo)
	x, path, err := a.export(ctx, r)
	if err == nil {
		if err = a.st.FinishArchiveRun(ctx, r, x, path); err == nil {
			log.Info("scheduled archive export made", "package", x.PackageID, "sha256", x.SHA256, "path", path)
			return true
		}
	}
	next := a.st.Now().Add(Backoff(r.Attempts+1, a.retry, 24*time.Hour))
	log.Warn("scheduled archive export failed; will retry", "err", err, "next", next)
	if err := a.st.RetryArchiveRun(ctx, r, next, err.Error()); err != nil {
		log.Error("record scheduled archive export failure", "err", err)
	}
	return false
}
