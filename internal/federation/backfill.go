package federation

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// Bounds of one thread backfill, so that a hostile or endless replies
// collection costs a bounded amount of work.
const (
	backfillMaxNotes   = 200              // notes taken into a thread per run
	backfillMaxFetches = 120              // GETs per run (collections, pages and notes)
	backfillMaxPages   = 5                // pages read of one replies collection
	backfillInterval   = 10 * time.Minute // a thread is backfilled at most this often
)

// BackfillStats says what one backfill did.
type BackfillStats struct {
	Fetches int // GETs made
	Added   int // notes taken into the thread
	Cut     bool
}

// backfillQueue holds the notes whose threads are to be backfilled off
// the inbox's path: reading replies collections means GETs to other
// servers, which must not hold up an inbox worker (Mastodon sends every
// reply with a replies collection). It is bounded; what does not fit is
// skipped (the thread is read again when its next reply arrives, or by
// Backfill).
type backfillQueue struct {
	ch      chan *store.RemoteNote
	running atomic.Int32 // RunBackfills loops reading ch
	pending atomic.Int64 // queued or being read
}

// Bounds of the backfill queue.
const (
	backfillQueueLen = 256
	backfillWorkers  = 2
)

// queueBackfill backfills around n in the background when RunBackfills
// runs, and at once otherwise (a CLI process).
func (s *Service) queueBackfill(ctx context.Context, n *store.RemoteNote) {
	q := &s.backfills
	if q.running.Load() == 0 {
		s.backfillAround(ctx, n)
		return
	}
	q.pending.Add(1)
	select {
	case q.ch <- n:
	default:
		q.pending.Add(-1)
		s.log.Info("backfill skipped: queue full", "note", n.IRI, "root", n.RootIRI)
	}
}

// RunBackfills reads queued threads' replies collections with a few
// workers until ctx ends.
func (s *Service) RunBackfills(ctx context.Context) {
	q := &s.backfills
	var wg sync.WaitGroup
	q.running.Add(1)
	for range backfillWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case n := <-q.ch:
					s.backfillAround(ctx, n)
					q.pending.Add(-1)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	q.running.Add(-1)
}

// BackfillsPending is how many queued backfills are not done (tests).
func (s *Service) BackfillsPending() int64 { return s.backfills.pending.Load() }

// backfillAround reads, after n arrived, the replies collections of n and
// of its ancestors in the thread (where its missing siblings and answers
// are listed), each at most once per backfillInterval.
func (s *Service) backfillAround(ctx context.Context, n *store.RemoteNote) {
	var queue []string
	seen := map[string]bool{n.RootIRI: true}
	cur := n
	for i := 0; cur != nil && i <= maxParentDepth; i++ {
		seen[cur.IRI] = true
		if cur.RepliesIRI != "" {
			queue = append(queue, cur.RepliesIRI)
		}
		if cur.InReplyTo == "" || cur.InReplyTo == cur.RootIRI || seen[cur.InReplyTo] {
			break
		}
		p, err := s.store.RemoteNoteByIRI(ctx, cur.InReplyTo)
		if err != nil {
			break
		}
		cur = p
	}
	if len(queue) == 0 {
		return
	}
	if st, err := s.backfill(ctx, n.RootIRI, queue, seen); err != nil {
		s.log.Info("backfill", "root", n.RootIRI, "err", err, "fetches", st.Fetches, "added", st.Added)
	}
}

// Backfill reads the replies collections of the notes in a thread and
// takes in the public replies torget never received (a Mastodon reply to
// another resident's reply goes only to that resident's server), each
// fetched from its origin, screened and placed like a delivered one. The
// walk is bounded in depth (maxThreadDepth), notes, fetches and pages;
// cycles end at notes already seen.
func (s *Service) Backfill(ctx context.Context, root string) (BackfillStats, error) {
	var st BackfillStats
	notes, err := s.store.ThreadNotes(ctx, root, []string{store.NoteVisible, store.NoteHeld, store.NoteHidden}, backfillMaxNotes)
	if err != nil {
		return st, err
	}
	seen := map[string]bool{root: true}
	var queue []string
	for _, n := range notes {
		seen[n.IRI] = true
		if n.RepliesIRI != "" {
			queue = append(queue, n.RepliesIRI)
		}
	}
	return s.backfill(ctx, root, queue, seen)
}

func (s *Service) backfill(ctx context.Context, root string, queue []string, seen map[string]bool) (BackfillStats, error) {
	var st BackfillStats
	seenColl := map[string]bool{}
	for len(queue) > 0 {
		coll := queue[0]
		queue = queue[1:]
		if seenColl[coll] || !s.collectionDue(coll) {
			continue
		}
		seenColl[coll] = true
		items, err := s.collectionItems(ctx, coll, &st)
		if err != nil {
			s.log.Info("replies collection not read", "iri", coll, "err", err)
		}
		for _, iri := range items {
			if seen[iri] || s.uris.IsLocal(iri) {
				continue
			}
			seen[iri] = true
			if st.Added >= backfillMaxNotes || st.Fetches >= backfillMaxFetches {
				st.Cut = true
				return st, nil
			}
			if _, err := s.store.RemoteNoteByIRI(ctx, iri); err == nil {
				continue
			}
			st.Fetches++
			o, raw, err := s.fetchObject(ctx, iri)
			if err != nil {
				s.log.Info("backfill note not fetched", "iri", iri, "err", err)
				continue
			}
			if !isPublic(o) || o.InReplyTo == "" {
				continue
			}
			p, ok, err := s.placeUnder(ctx, o.InReplyTo, map[string]bool{o.ID: true}, 0)
			if err != nil {
				return st, err
			}
			if !ok || p.root != root {
				continue
			}
			n, err := s.storeNote(ctx, o, raw, p, "backfill")
			if err != nil {
				if errors.Is(err, ErrTemporary) {
					continue
				}
				return st, err
			}
			st.Added++
			if n.RepliesIRI != "" {
				queue = append(queue, n.RepliesIRI)
			}
		}
		if st.Fetches >= backfillMaxFetches {
			st.Cut = len(queue) > 0
			break
		}
	}
	return st, nil
}

// collectionItems reads the item ids of a (paged) collection, at most
// backfillMaxPages pages.
func (s *Service) collectionItems(ctx context.Context, iri string, st *BackfillStats) ([]string, error) {
	var out []string
	next := iri
	var page map[string]any
	for pages := 0; pages <= backfillMaxPages; pages++ {
		if page == nil {
			if next == "" || st.Fetches >= backfillMaxFetches {
				break
			}
			if !activitypub.SameOrigin(next, iri) {
				break // a collection's pages stay on its origin
			}
			st.Fetches++
			body, final, err := s.client.Get(ctx, next, s.signGET)
			if err != nil {
				return out, err
			}
			if !activitypub.SameOrigin(final, iri) {
				return out, activitypub.ErrOrigin
			}
			m, err := activitypub.DecodeObject(body, s.opt.Limits)
			if err != nil {
				return out, err
			}
			page = m
		}
		for _, k := range []string{"orderedItems", "items"} {
			for _, e := range activitypub.AsList(page[k]) {
				switch t := e.(type) {
				case string:
					out = append(out, t)
				case map[string]any:
					// An embedded copy is never trusted: only its id is used.
					if id, _ := t["id"].(string); id != "" {
						out = append(out, id)
					}
				}
			}
		}
		first := page["first"]
		next = ""
		if f, ok := first.(map[string]any); ok {
			page = f
			continue
		}
		if f, ok := first.(string); ok {
			next = f
		} else if n, ok := page["next"].(string); ok {
			next = n
		} else if n, ok := page["next"].(map[string]any); ok {
			next, _ = n["id"].(string)
		}
		page = nil
	}
	return out, nil
}

// recentReads remembers when each replies collection was last read, so
// that a busy thread reads each collection at most once per
// backfillInterval (the rate bound).
type recentReads struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (s *Service) collectionDue(iri string) bool {
	now := s.opt.Now()
	r := &s.backfilled
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.m[iri]; ok && now.Sub(last) < backfillInterval {
		return false
	}
	if r.m == nil || len(r.m) > 50000 {
		r.m = map[string]time.Time{}
	}
	r.m[iri] = now
	return true
}
