package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func newGroup(t testing.TB, s *store.Store, slug string) *store.Group {
	t.Helper()
	g := &store.Group{Slug: slug, Name: slug, Purpose: "p", Language: "sv", PrivateKeyPEM: "priv", PublicKeyPEM: "pub", Discoverable: true}
	if err := s.CreateGroup(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestMigrateIsRepeatable(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != store.LatestSchemaVersion() {
		t.Fatalf("schema version = %d, %v; want %d", v, err, store.LatestSchemaVersion())
	}
}

func TestGroupConflictAndNotFound(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	newGroup(t, s, "a")
	err := s.CreateGroup(ctx, &store.Group{Slug: "a", Name: "x", Purpose: "p", PrivateKeyPEM: "k", PublicKeyPEM: "k"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate slug: got %v, want ErrConflict", err)
	}
	if _, err := s.GroupBySlug(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing group: got %v, want ErrNotFound", err)
	}
}

func TestEnqueueFollowersDedupesSharedInboxes(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	var fs []store.Follower
	for i := 0; i < 10; i++ {
		host := fmt.Sprintf("h%d.example", i%3)
		fs = append(fs, store.Follower{GroupID: g.ID, ActorIRI: fmt.Sprintf("https://%s/u/%d", host, i), Inbox: fmt.Sprintf("https://%s/u/%d/inbox", host, i),
			SharedInbox: "https://" + host + "/inbox", Host: host, State: store.FollowAccepted})
	}
	// one without a shared inbox, one pending
	fs = append(fs, store.Follower{GroupID: g.ID, ActorIRI: "https://solo.example/u", Inbox: "https://solo.example/u/inbox", Host: "solo.example", State: store.FollowAccepted})
	fs = append(fs, store.Follower{GroupID: g.ID, ActorIRI: "https://p.example/u", Inbox: "https://p.example/u/inbox", Host: "p.example", State: store.FollowPending})
	if err := s.InsertFollowers(ctx, fs); err != nil {
		t.Fatal(err)
	}
	a := &store.Activity{IRI: "https://local/a/1", GroupID: &g.ID, Type: "Create", JSON: "{}"}
	var n int64
	err := s.Tx(ctx, func(tx *store.Store) error {
		if err := tx.InsertActivity(ctx, a); err != nil {
			return err
		}
		var err error
		n, err = tx.EnqueueFollowers(ctx, a.ID, g.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("enqueued %d deliveries, want 4 (3 shared inboxes + 1 personal)", n)
	}
	// Enqueueing again adds nothing.
	n2, err := s.EnqueueFollowers(ctx, a.ID, g.ID)
	if err != nil || n2 != 0 {
		t.Fatalf("re-enqueue added %d, %v", n2, err)
	}
}

func TestClaimDeliveriesLeasesOnce(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	a := &store.Activity{IRI: "https://local/a/1", GroupID: &g.ID, Type: "Create", JSON: "{}"}
	if err := s.InsertActivity(ctx, a); err != nil {
		t.Fatal(err)
	}
	const total = 200
	for i := 0; i < total; i++ {
		if err := s.EnqueueDelivery(ctx, a.ID, fmt.Sprintf("https://h%d.example/inbox", i), fmt.Sprintf("h%d.example", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Four claimers race; every row must be leased exactly once.
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(worker string) {
			defer wg.Done()
			for {
				ds, err := s.ClaimDeliveries(ctx, worker, time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, ok := seen[d.ID]; ok {
						t.Errorf("delivery %d leased by %s and %s", d.ID, prev, worker)
					}
					seen[d.ID] = worker
				}
				mu.Unlock()
			}
		}(fmt.Sprintf("w%d", w))
	}
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("leased %d rows, want %d", len(seen), total)
	}
}

func TestRetryAndFinishDelivery(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	a := &store.Activity{IRI: "https://local/a/1", GroupID: &g.ID, Type: "Create", JSON: "{}"}
	_ = s.InsertActivity(ctx, a)
	_ = s.EnqueueDelivery(ctx, a.ID, "https://x.example/inbox", "x.example")
	ds, _ := s.ClaimDeliveries(ctx, "w", time.Minute, 10)
	if len(ds) != 1 {
		t.Fatalf("claimed %d", len(ds))
	}
	if err := s.RetryDelivery(ctx, &ds[0], "w", time.Now().Add(time.Hour), 500, "boom"); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimDeliveries(ctx, "w", time.Minute, 10); len(again) != 0 {
		t.Fatalf("a delivery scheduled in an hour was claimed now")
	}
	all, _ := s.DeliveriesFor(ctx, a.ID)
	if all[0].Attempts != 1 || all[0].LastStatus != 500 || all[0].LastError != "boom" {
		t.Fatalf("after retry: %+v", all[0])
	}
	// A stale worker cannot finish a row it no longer holds.
	if err := s.FinishDelivery(ctx, &all[0], "other", store.DeliveryDone, 202, ""); err != nil {
		t.Fatal(err)
	}
	all, _ = s.DeliveriesFor(ctx, a.ID)
	if all[0].Status != store.DeliveryPending {
		t.Fatalf("foreign worker changed status to %s", all[0].Status)
	}
}

func TestDomainBreaker(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	a := &store.Activity{IRI: "https://local/a/1", GroupID: &g.ID, Type: "Create", JSON: "{}"}
	_ = s.InsertActivity(ctx, a)
	_ = s.EnqueueDelivery(ctx, a.ID, "https://down.example/inbox", "down.example")
	for i := 0; i < 3; i++ {
		open, err := s.DomainFailed(ctx, "down.example", 3, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if open != (i == 2) {
			t.Fatalf("after %d failures open=%v", i+1, open)
		}
	}
	if ds, _ := s.ClaimDeliveries(ctx, "w", time.Minute, 10); len(ds) != 0 {
		t.Fatalf("claimed %d deliveries for a host whose breaker is open", len(ds))
	}
	reopened, err := s.DomainSeen(ctx, "down.example")
	if err != nil || !reopened {
		t.Fatalf("DomainSeen = %v, %v", reopened, err)
	}
	if ds, _ := s.ClaimDeliveries(ctx, "w", time.Minute, 10); len(ds) != 1 {
		t.Fatalf("after the host contacted us, claimed %d, want 1", len(ds))
	}
}

func TestInboxItemIdempotent(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	iri := "https://remote.example/activities/1"
	for i, want := range []bool{true, false} {
		ok, err := s.InsertInboxItem(ctx, &store.InboxItem{ActivityIRI: &iri, ActorIRI: "https://remote.example/u", Type: "Follow", Raw: "{}"})
		if err != nil || ok != want {
			t.Fatalf("insert %d: inserted=%v err=%v, want %v", i, ok, err, want)
		}
	}
	// Transient activities without id may repeat.
	for i := 0; i < 2; i++ {
		ok, err := s.InsertInboxItem(ctx, &store.InboxItem{ActorIRI: "https://remote.example/u", Type: "Delete", Raw: "{}"})
		if err != nil || !ok {
			t.Fatalf("id-less insert %d: %v %v", i, ok, err)
		}
	}
	items, err := s.ClaimInboxItems(ctx, "w", time.Minute, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("claimed %d items, %v", len(items), err)
	}
	for i := 1; i < len(items); i++ {
		if items[i].ID < items[i-1].ID {
			t.Fatalf("claimed out of the order received: %d before %d", items[i-1].ID, items[i].ID)
		}
	}
	// A batch's outcomes in one statement, each item its own.
	outs := []store.InboxOutcome{{ID: items[0].ID, Status: store.InboxProcessed, Reason: "follow accepted"},
		{ID: items[2].ID, Status: store.InboxIgnored, Reason: strings.Repeat("x", 600)}}
	if err := s.FinishInboxItems(ctx, outs); err != nil {
		t.Fatal(err)
	}
	c, err := s.InboxCounts(ctx)
	if err != nil || c[store.InboxProcessed] != 1 || c[store.InboxIgnored] != 1 || c[store.InboxPending] != 1 {
		t.Fatalf("counts after finishing two of three: %v %v", c, err)
	}
	first, err := s.InboxItemByIRI(ctx, iri)
	if err != nil || first.Status != store.InboxProcessed || first.Reason != "follow accepted" || first.ProcessedAt == nil || first.LockedUntil != nil {
		t.Fatalf("finished item: %+v %v", first, err)
	}
}

func TestSQLiteFileIsOwnerOnly(t *testing.T) {
	if storetest.Postgres() {
		return // a file-mode property of the embedded database only
	}
	path := t.TempDir() + "/keys.db"
	s, err := store.Open("sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v, want 0600 (it holds private keys)", fi.Mode().Perm())
	}
}
