package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/torget/torget/internal/metrics"
	"github.com/torget/torget/internal/store"
)

// InboxHandler applies one stored activity. A non-nil error means retry.
type InboxHandler func(ctx context.Context, it *store.InboxItem) (status, reason string, err error)

// InboxRunner applies stored inbox activities in the background.
type InboxRunner struct {
	st      *store.Store
	handle  InboxHandler
	log     *slog.Logger
	m       *metrics.Metrics
	workers int
	maxTry  int
	poll    time.Duration
	worker  string
	wake    chan struct{}
	now     func() time.Time
}

// NewInboxRunner returns a runner with n workers.
func NewInboxRunner(st *store.Store, handle InboxHandler, log *slog.Logger, m *metrics.Metrics, n int) *InboxRunner {
	return &InboxRunner{st: st, handle: handle, log: log, m: m, workers: n, maxTry: 12, poll: time.Second,
		worker: workerID(), wake: make(chan struct{}, 1), now: time.Now}
}

// Wake makes an idle runner look for work now.
func (r *InboxRunner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run processes until ctx is done, finishing the items in hand.
func (r *InboxRunner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	inflight := context.WithoutCancel(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		items, err := r.st.ClaimInboxItems(ctx, r.worker, 2*time.Minute, r.workers*4)
		if err != nil && ctx.Err() == nil {
			r.log.Error("claim inbox items", "err", err)
		}
		if len(items) == 0 {
			timer.Reset(r.poll)
			select {
			case <-r.wake:
			case <-timer.C:
			case <-ctx.Done():
			}
			continue
		}
		ch := make(chan *store.InboxItem)
		for w := 0; w < r.workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := range ch {
					r.apply(inflight, it)
				}
			}()
		}
		for i := range items {
			ch <- &items[i]
		}
		close(ch)
		wg.Wait()
	}
}

func (r *InboxRunner) apply(ctx context.Context, it *store.InboxItem) {
	log := r.log.With("inbox_item", it.ID, "type", it.Type, "actor", it.ActorIRI)
	status, reason, err := r.handle(ctx, it)
	if err != nil {
		if it.Attempts+1 >= r.maxTry {
			log.Warn("inbox item failed", "err", err)
			status, reason = store.InboxFailed, err.Error()
		} else {
			log.Info("inbox item will be retried", "err", err)
			if rerr := r.st.RetryInboxItem(ctx, it, r.now().Add(Backoff(it.Attempts+1, 10*time.Second, time.Hour)), err.Error()); rerr != nil {
				log.Error("reschedule inbox item", "err", rerr)
			}
			return
		}
	}
	if r.m != nil {
		r.m.InboxApplied.WithLabelValues(it.Type, status).Inc()
	}
	if ferr := r.st.FinishInboxItem(ctx, it.ID, status, reason); ferr != nil {
		log.Error("record inbox result", "err", ferr)
	}
}
