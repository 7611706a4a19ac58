package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// Prepare sees each claimed batch whole before any item of it is applied,
// and its handler applies the items; when it fails, the runner's own
// handler applies them one by one.
func TestInboxRunnerPreparesEachBatch(t *testing.T) {
	for _, failPrepare := range []bool{false, true} {
		t.Run(fmt.Sprintf("prepare fails=%v", failPrepare), func(t *testing.T) {
			st := storetest.Open(t)
			ctx := context.Background()
			const n = 20
			for i := range n {
				iri := fmt.Sprintf("https://remote.example/activities/%d", i)
				if _, err := st.InsertInboxItem(ctx, &store.InboxItem{ActivityIRI: &iri, ActorIRI: "https://remote.example/users/a", Type: "Like", Raw: "{}"}); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			prepared := map[int64]bool{}
			var batches, byPrepared, byOwn int
			own := func(ctx context.Context, it *store.InboxItem) (string, string, error) {
				mu.Lock()
				defer mu.Unlock()
				byOwn++
				return store.InboxProcessed, "own", nil
			}
			r := NewInboxRunner(st, own, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, 2)
			r.Prepare = func(ctx context.Context, items []store.InboxItem) (InboxHandler, error) {
				mu.Lock()
				defer mu.Unlock()
				batches++
				if failPrepare {
					return nil, errors.New("database busy")
				}
				for _, it := range items {
					prepared[it.ID] = true
				}
				return func(ctx context.Context, it *store.InboxItem) (string, string, error) {
					mu.Lock()
					defer mu.Unlock()
					if !prepared[it.ID] {
						return "", "", fmt.Errorf("item %d applied before its batch was prepared", it.ID)
					}
					byPrepared++
					return store.InboxProcessed, "prepared", nil
				}, nil
			}
			runUntilProcessed(t, st, r, n)
			mu.Lock()
			defer mu.Unlock()
			if batches == 0 || batches > n/16+1 {
				t.Fatalf("%d batches prepared for %d items claimed 16 at a time", batches, n)
			}
			want, other := &byPrepared, byOwn
			if failPrepare {
				want, other = &byOwn, byPrepared
			}
			if *want != n || other != 0 {
				t.Fatalf("applied by prepared handler %d, by own handler %d", byPrepared, byOwn)
			}
		})
	}
}

// One actor's activities are applied in the order received, different
// actors' at the same time, and a backlog of several batches is applied
// in full.
func TestInboxRunnerOrdersEachActor(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	const actors, each = 4, 30
	for i := range each {
		for a := range actors {
			iri := fmt.Sprintf("https://remote.example/activities/%d-%d", a, i)
			if _, err := st.InsertInboxItem(ctx, &store.InboxItem{ActivityIRI: &iri,
				ActorIRI: fmt.Sprintf("https://remote.example/users/%d", a), Type: "Like", Raw: "{}"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	applied := map[string][]int64{}
	inFlight, maxInFlight := 0, 0
	handle := func(ctx context.Context, it *store.InboxItem) (string, string, error) {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		time.Sleep(time.Duration(2-it.ID%3) * time.Millisecond) // later items may finish first
		mu.Lock()
		applied[it.ActorIRI] = append(applied[it.ActorIRI], it.ID)
		inFlight--
		mu.Unlock()
		return store.InboxProcessed, "", nil
	}
	r := NewInboxRunner(st, handle, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, 4)
	runUntilProcessed(t, st, r, actors*each)
	mu.Lock()
	defer mu.Unlock()
	for a, ids := range applied {
		if len(ids) != each {
			t.Errorf("%s: %d applied, want %d", a, len(ids), each)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] < ids[i-1] {
				t.Fatalf("%s: item %d applied after %d: %v", a, ids[i-1], ids[i], ids)
			}
		}
	}
	if maxInFlight < 2 {
		t.Fatalf("at most %d item in flight: actors were not applied in parallel", maxInFlight)
	}
}

// runUntilProcessed runs r until n items are processed, then stops it.
func runUntilProcessed(t *testing.T, st *store.Store, r *InboxRunner, n int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := st.InboxCounts(context.Background())
		if err == nil && c[store.InboxProcessed] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox counts %v, want %d processed", c, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
