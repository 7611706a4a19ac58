package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// Due scheduled drafts are leased to one worker at a time; a draft is
// marked published once; a published draft can be neither edited nor
// discarded; public post queries never see drafts.
func TestDraftLifecycle(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "d")
	now := s.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	due := &store.Draft{PublicID: "due", GroupID: g.ID, State: store.DraftScheduled, Source: "Nu", ScheduledAt: &past}
	later := &store.Draft{PublicID: "later", GroupID: g.ID, State: store.DraftScheduled, Source: "Sen", ScheduledAt: &future}
	plain := &store.Draft{PublicID: "plain", GroupID: g.ID, State: store.DraftDraft, Source: "Utkast"}
	for _, d := range []*store.Draft{due, later, plain} {
		if err := s.SaveDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ClaimDueDrafts(ctx, "w1", time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].PublicID != "due" || got[0].LockedBy != "w1" {
		t.Fatalf("claim: %+v %v", got, err)
	}
	if again, err := s.ClaimDueDrafts(ctx, "w2", time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("a leased draft was claimed again: %+v %v", again, err)
	}
	if n, _ := s.CountPosts(ctx, g.ID); n != 0 {
		t.Fatalf("drafts counted as posts: %d", n)
	}
	if ps, _ := s.ListPosts(ctx, g.ID, 0, 10); len(ps) != 0 {
		t.Fatalf("drafts listed as posts: %+v", ps)
	}
	p := &store.Post{PublicID: "p1", GroupID: g.ID, Source: "Nu", ContentHTML: "<p>Nu</p>"}
	if err := s.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePost(ctx, p); err != nil {
			return err
		}
		return tx.MarkDraftPublished(ctx, due.ID, p.ID)
	}); err != nil {
		t.Fatal(err)
	}
	// A second publisher's transaction rolls back, its post with it.
	p2 := &store.Post{PublicID: "p2", GroupID: g.ID, Source: "Nu", ContentHTML: "<p>Nu</p>"}
	err = s.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePost(ctx, p2); err != nil {
			return err
		}
		return tx.MarkDraftPublished(ctx, due.ID, p2.ID)
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second publication: %v", err)
	}
	if _, err := s.PostByPublicID(ctx, "p2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the losing post was kept: %v", err)
	}
	due.Source = "Ändrat"
	if err := s.SaveDraft(ctx, due); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("edit after publication: %v", err)
	}
	if err := s.DiscardDraft(ctx, due.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("discard after publication: %v", err)
	}
	if err := s.DiscardDraft(ctx, plain.ID); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ListDrafts(ctx, g.ID)
	if err != nil || len(ds) != 1 || ds[0].PublicID != "later" {
		t.Fatalf("unpublished drafts: %+v %v", ds, err)
	}
	cur, _ := s.DraftByPublicID(ctx, "due")
	if cur.State != store.DraftPublished || cur.PostID == nil || *cur.PostID != p.ID {
		t.Fatalf("published draft %+v", cur)
	}
}
