package queue

import (
	"context"
	"sync"

	"github.com/torget/torget/internal/store"
)

// InboxWriter stores received activities with group commit: requests that
// arrive while a commit is under way are written together in the next one.
// Each caller still gets its answer only after its row is committed, so
// "persist before acknowledging" holds; what changes is that one fsync
// serves many requests (PostgreSQL was bound by WAL flushes otherwise).
type InboxWriter struct {
	st       *store.Store
	in       chan writeReq
	maxBatch int

	mu     sync.RWMutex
	closed bool
}

type writeReq struct {
	it   *store.InboxItem
	done chan writeRes
}

type writeRes struct {
	inserted bool
	err      error
}

// NewInboxWriter returns a writer; call Run.
func NewInboxWriter(st *store.Store) *InboxWriter {
	return &InboxWriter{st: st, in: make(chan writeReq, 1024), maxBatch: 256}
}

// Write stores one item and reports whether it was new. When the writer
// is not running or its queue is full, it writes directly.
func (w *InboxWriter) Write(ctx context.Context, it *store.InboxItem) (bool, error) {
	req := writeReq{it: it, done: make(chan writeRes, 1)}
	w.mu.RLock()
	queued := false
	if !w.closed {
		select {
		case w.in <- req:
			queued = true
		default:
		}
	}
	w.mu.RUnlock()
	if !queued {
		return w.st.InsertInboxItem(ctx, it)
	}
	// Wait for the commit even if the client went away: the row is
	// being written either way.
	res := <-req.done
	return res.inserted, res.err
}

// Run writes batches until ctx ends, then answers whatever is queued and
// hands later writes to the direct path.
func (w *InboxWriter) Run(ctx context.Context) {
	for {
		select {
		case req := <-w.in:
			w.flush(context.WithoutCancel(ctx), w.collect(req))
		case <-ctx.Done():
			w.mu.Lock()
			w.closed = true
			w.mu.Unlock()
			for {
				select {
				case req := <-w.in:
					w.flush(context.WithoutCancel(ctx), w.collect(req))
				default:
					return
				}
			}
		}
	}
}

// collect takes first and whatever else is already waiting.
func (w *InboxWriter) collect(first writeReq) []writeReq {
	batch := []writeReq{first}
	for len(batch) < w.maxBatch {
		select {
		case req := <-w.in:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

func (w *InboxWriter) flush(ctx context.Context, batch []writeReq) {
	items := make([]*store.InboxItem, len(batch))
	for i, r := range batch {
		items[i] = r.it
	}
	inserted, err := w.st.InsertInboxItems(ctx, items)
	if err != nil && len(batch) > 1 {
		// One bad row must not fail the others: write them one by one.
		for _, r := range batch {
			ok, err := w.st.InsertInboxItem(ctx, r.it)
			r.done <- writeRes{ok, err}
		}
		return
	}
	for i, r := range batch {
		res := writeRes{err: err}
		if err == nil {
			res.inserted = inserted[i]
		}
		r.done <- res
	}
}
