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

// InboxPrepare readies a claimed batch for applying — e.g. records every
// item of it in one transaction — and returns the handler that applies
// its items. On an error the batch is applied by the runner's own handler.
type InboxPrepare func(ctx context.Context, items []store.InboxItem) (InboxHandler, error)

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
	// Lease is how long claimed items are this process's (default 2m);
	// after a crash they are applied again once it ends.
	Lease time.Duration
	// Prepare, if set, is called once per claimed batch before its items
	// are applied.
	Prepare InboxPrepare
}

// NewInboxRunner returns a runner with n workers.
func NewInboxRunner(st *store.Store, handle InboxHandler, log *slog.Logger, m *metrics.Metrics, n int) *InboxRunner {
	return &InboxRunner{st: st, handle: handle, log: log, m: m, workers: n, maxTry: 12, poll: time.Second,
		worker: workerID(), wake: make(chan struct{}, 1), now: time.Now, Lease: 2 * time.Minute}
}

// Wake makes an idle runner look for work now.
func (r *InboxRunner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run processes until ctx is done, finishing the items in hand.
//
// Claiming, preparing and recording a batch are each one transaction;
// they run beside the applying, so that on a backlog the workers never
// wait for them: the next batch is claimed and prepared while two are
// being applied, and applied batches are recorded by a goroutine of their
// own. The workers take items from the batches in hand continuously: one
// actor's activities one at a time in the order received (a Create before
// its Update, even across batches), different actors' in parallel, and a
// worker free at the end of one batch starts on the next.
func (r *InboxRunner) Run(ctx context.Context) {
	inflight := context.WithoutCancel(ctx)
	toRecord := make(chan *batchRun, 2)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for b := range toRecord {
			r.record(inflight, b.items, b.results)
		}
	}()
	const inHand = 2 // batches being applied at once
	slots := make(chan struct{}, inHand)
	ap := newApplier()
	var workers sync.WaitGroup
	for range r.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			ap.work(func(b *batchRun, i int) { b.results[i] = r.apply(inflight, b.handle, &b.items[i]) })
		}()
	}
	defer func() {
		for range inHand {
			slots <- struct{}{} // every batch applied
		}
		ap.close()
		workers.Wait()
		close(toRecord)
		<-recorded
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		// Eight items per worker: each batch costs three commits whatever
		// its size (BenchmarkInboxReplies: 32 applied ~8 % more a second
		// than 16, 64 no more than 32).
		items, err := r.st.ClaimInboxItems(ctx, r.worker, r.Lease, r.workers*8)
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
		handle := r.handle
		if r.Prepare != nil {
			h, err := r.Prepare(inflight, items)
			if err != nil {
				r.log.Warn("prepare inbox batch; applying item by item", "items", len(items), "err", err)
			} else {
				handle = h
			}
		}
		slots <- struct{}{}
		ap.add(&batchRun{items: items, handle: handle, results: make([]result, len(items)), left: len(items),
			done: func(b *batchRun) {
				toRecord <- b
				<-slots
			}})
	}
}

// result is the outcome of applying one item, written with its batch.
type result struct {
	status, reason string
	retryAt        time.Time // non-zero: try again then
}

func (r *InboxRunner) apply(ctx context.Context, handle InboxHandler, it *store.InboxItem) result {
	status, reason, err := handle(ctx, it)
	if err != nil {
		log := r.log.With("inbox_item", it.ID, "type", it.Type, "actor", it.ActorIRI)
		if it.Attempts+1 < r.maxTry {
			log.Info("inbox item will be retried", "err", err)
			return result{reason: err.Error(), retryAt: r.now().Add(Backoff(it.Attempts+1, 10*time.Second, time.Hour))}
		}
		log.Warn("inbox item failed", "err", err)
		status, reason = store.InboxFailed, err.Error()
	}
	if r.m != nil {
		r.m.InboxApplied.WithLabelValues(it.Type, status).Inc()
	}
	return result{status: status, reason: reason}
}

// record writes a batch's outcomes in one statement (in a transaction
// with the rare retries): one write instead of one per item. Should the
// process die before it, the items are applied again after their lease,
// which the handlers tolerate (idempotent).
func (r *InboxRunner) record(ctx context.Context, items []store.InboxItem, results []result) {
	var done []store.InboxOutcome
	var retry []int
	for i, res := range results {
		if res.retryAt.IsZero() {
			done = append(done, store.InboxOutcome{ID: items[i].ID, Status: res.status, Reason: res.reason})
		} else {
			retry = append(retry, i)
		}
	}
	write := func(st *store.Store) error {
		for _, i := range retry {
			if err := st.RetryInboxItem(ctx, &items[i], results[i].retryAt, results[i].reason); err != nil {
				return err
			}
		}
		return st.FinishInboxItems(ctx, done)
	}
	var err error
	if len(retry) == 0 && len(done) <= 500 {
		err = write(r.st) // one statement: no transaction needed
	} else {
		err = r.st.Tx(ctx, write)
	}
	if err != nil {
		r.log.Error("record inbox results", "items", len(items), "err", err)
	}
}
