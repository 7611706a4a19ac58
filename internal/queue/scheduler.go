package queue

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/torget/torget/internal/store"
)

// PublishFunc publishes one due draft. ErrUnpublishable (wrapped) means it
// can never be published as it stands; any other error means retry.
type PublishFunc func(ctx context.Context, d *store.Draft) error

// ErrUnpublishable marks a scheduled post that fails validation: it goes
// back to being a draft, with the reason, for staff to fix.
var ErrUnpublishable = errors.New("cannot be published")

// Scheduler publishes scheduled posts when their time comes. The schedule
// is the drafts table, so it survives restarts; every node runs one, and
// rows are leased so that the nodes share the work. (That a post is
// published once is the publish transaction's doing, not the lease's.)
type Scheduler struct {
	st      *store.Store
	publish PublishFunc
	log     *slog.Logger
	poll    time.Duration
	lease   time.Duration
	worker  string
	wake    chan struct{}
}

// NewScheduler returns a scheduler that looks for due posts every poll.
func NewScheduler(st *store.Store, publish PublishFunc, log *slog.Logger, poll, lease time.Duration) *Scheduler {
	if poll <= 0 {
		poll = 15 * time.Second
	}
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	return &Scheduler{st: st, publish: publish, log: log, poll: poll, lease: lease, worker: workerID(), wake: make(chan struct{}, 1)}
}

// Wake makes the scheduler look now (after a post was scheduled).
func (r *Scheduler) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes due posts until ctx ends; the post in hand is finished.
func (r *Scheduler) Run(ctx context.Context) {
	inflight := context.WithoutCancel(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		ds, err := r.st.ClaimDueDrafts(ctx, r.worker, r.lease, 10)
		if err != nil && ctx.Err() == nil {
			r.log.Error("claim due drafts", "err", err)
		}
		for i := range ds {
			r.run(inflight, &ds[i])
		}
		if len(ds) > 0 {
			continue
		}
		timer.Reset(r.poll)
		select {
		case <-r.wake:
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}

func (r *Scheduler) run(ctx context.Context, d *store.Draft) {
	err := r.publish(ctx, d)
	if err == nil {
		return
	}
	log := r.log.With("draft", d.PublicID, "group_id", d.GroupID)
	if errors.Is(err, ErrUnpublishable) {
		log.Warn("scheduled post not publishable; back to draft", "err", err)
		err = r.st.UnscheduleDraft(ctx, d, err.Error())
	} else {
		log.Warn("scheduled post will be retried", "err", err)
		err = r.st.RetryDraft(ctx, d, r.st.Now().Add(Backoff(d.Attempts+1, 10*time.Second, 10*time.Minute)), err.Error())
	}
	if err != nil {
		log.Error("record scheduled post failure", "err", err)
	}
}
