package queue

import (
	"sync"

	"github.com/torget/torget/internal/store"
)

// batchRun is a claimed batch being applied.
type batchRun struct {
	items   []store.InboxItem
	handle  InboxHandler
	results []result
	left    int             // items not yet applied
	done    func(*batchRun) // called once, by the worker that applies the last item
}

// applier hands the items of the batches in hand to workers: each actor's
// items one at a time and in the order added, different actors' in
// parallel, round robin among actors.
type applier struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queues map[string][]job // per actor: its items in order, the head being applied or next
	ready  []string         // actors with items and no worker on them
	closed bool
}

type job struct {
	b *batchRun
	i int
}

func newApplier() *applier {
	a := &applier{queues: map[string][]job{}}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// add queues a batch's items.
func (a *applier) add(b *batchRun) {
	a.mu.Lock()
	for i := range b.items {
		actor := b.items[i].ActorIRI
		q, busy := a.queues[actor]
		a.queues[actor] = append(q, job{b, i})
		if !busy {
			a.ready = append(a.ready, actor)
		}
	}
	a.mu.Unlock()
	a.cond.Broadcast()
}

// work applies items until the applier is closed and nothing is left.
func (a *applier) work(apply func(b *batchRun, i int)) {
	for {
		a.mu.Lock()
		for len(a.ready) == 0 && !a.closed {
			a.cond.Wait()
		}
		if len(a.ready) == 0 {
			a.mu.Unlock()
			return
		}
		actor := a.ready[0]
		a.ready = a.ready[1:]
		j := a.queues[actor][0]
		a.mu.Unlock()

		apply(j.b, j.i)

		a.mu.Lock()
		if q := a.queues[actor][1:]; len(q) > 0 {
			a.queues[actor] = q
			a.ready = append(a.ready, actor)
			a.cond.Signal()
		} else {
			delete(a.queues, actor)
		}
		j.b.left--
		finished := j.b.left == 0
		a.mu.Unlock()
		if finished {
			j.b.done(j.b)
		}
	}
}

// close lets the workers return once the queued items are applied.
func (a *applier) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cond.Broadcast()
}
