package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func appendN(t *testing.T, s *store.Store, g *store.Group, n int, kind string) []store.RecordEntry {
	t.Helper()
	var out []store.RecordEntry
	for i := 0; i < n; i++ {
		e := store.RecordEntry{Kind: kind, Direction: store.DirOut, GroupID: &g.ID, Actor: "user:1:anna",
			ObjectIRI: fmt.Sprintf("https://torget.test/p/%d", i), Payload: fmt.Sprintf(`{"type":"Create","n":%d}`, i)}
		if err := s.AppendRecord(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestRecordChainVerifiesAndTamperingShows(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	es := appendN(t, s, g, 5, store.KindPostCreate)
	if es[0].PrevHash != strings.Repeat("0", 64) || es[1].PrevHash != es[0].EntryHash {
		t.Fatalf("chain links: %q, %q (want %q)", es[0].PrevHash, es[1].PrevHash, es[0].EntryHash)
	}
	r, err := s.VerifyChain(ctx)
	if err != nil || !r.OK {
		t.Fatalf("verify = %+v, %v", r, err)
	}
	if r.Entries != 5 {
		t.Fatalf("entries = %d, want 5", r.Entries)
	}
	for _, tc := range []struct{ name, sql, problem string }{
		{"payload", "UPDATE record_entries SET payload = '{\"type\":\"Create\",\"n\":99}' WHERE seq = ?", "content hash"},
		{"actor", "UPDATE record_entries SET actor = 'user:2:bertil' WHERE seq = ?", "entry hash"},
		{"time", "UPDATE record_entries SET at = ? WHERE seq = ?", "entry hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.Open(t)
			g := newGroup(t, s, "g")
			es := appendN(t, s, g, 5, store.KindPostCreate)
			var err error
			if tc.name == "time" {
				err = s.Exec(ctx, tc.sql, es[2].At.Add(-time.Hour), es[2].Seq)
			} else {
				err = s.Exec(ctx, tc.sql, es[2].Seq)
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.VerifyChain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK || r.BrokenSeq != es[2].Seq || !strings.Contains(r.Problem, tc.problem) {
				t.Fatalf("verify after tampering = %+v, want broken at %d (%s)", r, es[2].Seq, tc.problem)
			}
		})
	}
	t.Run("row removed", func(t *testing.T) {
		if err := s.Exec(ctx, "DELETE FROM record_entries WHERE seq = ?", es[3].Seq); err != nil {
			t.Fatal(err)
		}
		r, err := s.VerifyChain(ctx)
		if err != nil || r.OK || r.BrokenSeq != es[4].Seq {
			t.Fatalf("verify after removing a row = %+v, %v; want broken at %d", r, err, es[4].Seq)
		}
	})
}

func TestRecordAppendsAreLinearUnderConcurrency(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				errs <- s.Tx(ctx, func(tx *store.Store) error {
					return tx.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindAudit, Direction: store.DirInternal, GroupID: &g.ID,
						Payload: fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)})
				})
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.VerifyChain(ctx)
	if err != nil || !r.OK || r.Entries != 40 {
		t.Fatalf("verify = %+v, %v; want 40 linked entries", r, err)
	}
}

func TestRecordRefIsIdempotentAndRollsBackWithItsTransaction(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	a := store.RecordEntry{Kind: store.KindInbound, Direction: store.DirIn, Ref: "inbox:1", Payload: `{"type":"Like"}`}
	b := store.RecordEntry{Kind: store.KindInbound, Direction: store.DirIn, Ref: "inbox:1", Payload: `{"type":"Like"}`}
	if err := s.AppendRecord(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendRecord(ctx, &b); err != nil || b.Seq != a.Seq {
		t.Fatalf("second append with the same ref: seq %d, %v; want the first (%d)", b.Seq, err, a.Seq)
	}
	err := s.Tx(ctx, func(tx *store.Store) error {
		if err := tx.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindAudit, Direction: store.DirInternal, Payload: `{}`}); err != nil {
			return err
		}
		return fmt.Errorf("the change failed")
	})
	if err == nil {
		t.Fatal("want the transaction's error")
	}
	if es, _ := s.SearchRecord(ctx, store.RecordQuery{}); len(es) != 1 {
		t.Fatalf("after rollback the record has %d entries, want 1", len(es))
	}
	if err := s.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindAudit, Direction: "sideways"}); err == nil {
		t.Fatal("a bad direction was accepted")
	}
	if err := s.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindAudit, Direction: store.DirIn, Payload: "not json"}); err == nil {
		t.Fatal("a payload that is not JSON was accepted")
	}
}

func TestGallringDeletesItsCategoryAndSkipsHolds(t *testing.T) {
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := now.AddDate(-2, 0, 0)
	s, err := store.Open(storetest.URL(t), store.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, s, "g")
	add := func(cat, obj string) store.RecordEntry {
		e := store.RecordEntry{Kind: store.KindInbound, Category: cat, Direction: store.DirIn, GroupID: &g.ID, ObjectIRI: obj, Payload: `{"type":"x"}`}
		if err := s.AppendRecord(ctx, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	oldLikes := []store.RecordEntry{add("inbound.like", "https://torget.test/p/1"), add("inbound.like", "https://torget.test/p/2"),
		add("inbound.like", "https://torget.test/p/3")}
	oldReply := add("inbound.create", "https://remote.test/note/1")
	clock = now.AddDate(0, -1, 0)
	newLike := add("inbound.like", "https://torget.test/p/4")
	clock = now
	seq := oldLikes[1].Seq
	if err := s.AddHold(ctx, &store.RecordHold{EntrySeq: &seq, Reason: "begäran om allmän handling 2027-17", CreatedBy: "user:1:anna"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddHold(ctx, &store.RecordHold{ObjectIRI: "https://torget.test/p/3", Reason: "överklagande"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddHold(ctx, &store.RecordHold{Reason: "no target"}); err == nil {
		t.Fatal("a hold without an entry or object was accepted")
	}
	rules := []store.GallringRule{{Category: "inbound.like", Before: now.AddDate(-1, 0, 0)}}
	if _, err := s.GallraRecords(ctx, "", "cli", rules, false); err == nil {
		t.Fatal("gallring without a decision id ran")
	}
	dry, err := s.GallraRecords(ctx, "SSA-2026:12", "cli", rules, true)
	if err != nil || len(dry.Deleted) != 1 || dry.Log != nil {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	if _, err := s.RecordEntry(ctx, oldLikes[0].Seq); err != nil {
		t.Fatalf("a dry run deleted: %v", err)
	}
	res, err := s.GallraRecords(ctx, "SSA-2026:12", "cli", rules, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 1 || res.Deleted[0].Seq != oldLikes[0].Seq || res.Deleted[0].Hash != oldLikes[0].EntryHash {
		t.Fatalf("deleted %+v, want exactly the unheld old like %d", res.Deleted, oldLikes[0].Seq)
	}
	if len(res.Skipped) != 2 || res.Skipped[0].Reason != "skipped: legal hold" {
		t.Fatalf("skipped %+v, want the two held likes with reason", res.Skipped)
	}
	if _, err := s.RecordEntry(ctx, oldLikes[0].Seq); err == nil {
		t.Fatal("the covered entry is still there")
	}
	for _, e := range []store.RecordEntry{oldLikes[1], oldLikes[2], oldReply, newLike} {
		if _, err := s.RecordEntry(ctx, e.Seq); err != nil {
			t.Fatalf("entry %d (%s) was removed: %v", e.Seq, e.Category, err)
		}
	}
	var p store.GallringPayload
	if err := json.Unmarshal([]byte(res.Log.Payload), &p); err != nil || p.Decision != "SSA-2026:12" || p.Count != 1 || len(p.Skipped) != 2 {
		t.Fatalf("gallring log = %s, %v", res.Log.Payload, err)
	}
	r, err := s.VerifyChain(ctx)
	if err != nil || !r.OK || r.GallraSkips != 1 {
		t.Fatalf("chain after gallring = %+v, %v; want OK with one logged gap", r, err)
	}
	// Releasing the hold lets the next run remove it.
	hs, _ := s.ActiveHolds(ctx)
	if err := s.ReleaseHold(ctx, hs[0].ID, "user:1:anna"); err != nil {
		t.Fatal(err)
	}
	res, err = s.GallraRecords(ctx, "SSA-2026:12", "cli", rules, false)
	if err != nil || len(res.Deleted) != 1 || res.Deleted[0].Seq != oldLikes[1].Seq {
		t.Fatalf("after release: %+v, %v", res, err)
	}
	if r, err := s.VerifyChain(ctx); err != nil || !r.OK {
		t.Fatalf("chain after second run = %+v, %v", r, err)
	}
}

func TestSearchRecord(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g1, g2 := newGroup(t, s, "a"), newGroup(t, s, "b")
	for i := 0; i < 30; i++ {
		g, dir, kind, actor := g1, store.DirOut, store.KindPostCreate, "user:1:anna"
		if i%3 == 0 {
			g, dir, kind, actor = g2, store.DirIn, store.KindInbound, "https://remote.test/users/bo"
		}
		text := "vanlig text"
		if i%5 == 0 {
			text = "Snöröjning på Storgatan"
		}
		e := store.RecordEntry{Kind: kind, Direction: dir, GroupID: &g.ID, Actor: actor, Payload: fmt.Sprintf(`{"content":%q}`, text)}
		if err := s.AppendRecord(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q store.RecordQuery) int {
		t.Helper()
		es, err := s.SearchRecord(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	if n := count(store.RecordQuery{GroupID: g2.ID}); n != 10 {
		t.Fatalf("group b: %d, want 10", n)
	}
	if n := count(store.RecordQuery{Direction: store.DirIn}); n != 10 {
		t.Fatalf("inbound: %d, want 10", n)
	}
	if n := count(store.RecordQuery{Kind: "post"}); n != 20 {
		t.Fatalf("kind prefix post: %d, want 20", n)
	}
	if n := count(store.RecordQuery{Text: "snöröjning"}); n != 6 {
		t.Fatalf("text: %d, want 6", n)
	}
	if n := count(store.RecordQuery{Actor: "remote.test", Text: "storgatan"}); n != 2 {
		t.Fatalf("actor+text: %d, want 2 (i = 0, 15)", n)
	}
	if n := count(store.RecordQuery{To: time.Now().Add(-time.Hour)}); n != 0 {
		t.Fatalf("before any entry: %d, want 0", n)
	}
	page, _ := s.SearchRecord(ctx, store.RecordQuery{Limit: 7})
	next, _ := s.SearchRecord(ctx, store.RecordQuery{Limit: 7, BeforeSeq: page[6].Seq})
	if len(page) != 7 || len(next) != 7 || next[0].Seq != page[6].Seq-1 {
		t.Fatalf("paging: %d then %d starting at %d", len(page), len(next), next[0].Seq)
	}
}

func TestAppendRecordsBatchLinksInOrderAndKeepsRefsIdempotent(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	first := store.RecordEntry{Kind: store.KindInbound, Direction: store.DirIn, Ref: "inbox:1", Payload: `{"n":1}`}
	if err := s.AppendRecord(ctx, &first); err != nil {
		t.Fatal(err)
	}
	batch := []*store.RecordEntry{
		{Kind: store.KindInbound, Direction: store.DirIn, Ref: "inbox:1", Payload: `{"n":1}`}, // recorded before
		{Kind: store.KindInbound, Direction: store.DirIn, Ref: "inbox:2", Payload: `{"n":2}`},
		{Kind: store.KindInbound, Direction: store.DirIn, Ref: "inbox:2", Payload: `{"n":2}`}, // twice in the batch
		{Kind: store.KindAudit, Direction: store.DirInternal, Payload: `{"n":3}`},
		{Kind: store.KindInbound, Direction: store.DirIn, Ref: "inbox:4", Payload: `{"n":4}`},
	}
	if err := s.AppendRecords(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if batch[0].Seq != first.Seq || batch[0].EntryHash != first.EntryHash {
		t.Fatalf("a recorded ref was appended again: seq %d, want %d", batch[0].Seq, first.Seq)
	}
	if batch[2].Seq != batch[1].Seq {
		t.Fatalf("a ref twice in one batch got seqs %d and %d", batch[1].Seq, batch[2].Seq)
	}
	if batch[1].PrevHash != first.EntryHash || batch[3].PrevHash != batch[1].EntryHash || batch[4].PrevHash != batch[3].EntryHash ||
		batch[4].Seq != first.Seq+3 {
		t.Fatalf("batch not linked in order: %+v", batch)
	}
	es, err := s.SearchRecord(ctx, store.RecordQuery{})
	if err != nil || len(es) != 4 {
		t.Fatalf("record has %d entries (%v), want 4", len(es), err)
	}
	if r, err := s.VerifyChain(ctx); err != nil || !r.OK || r.Entries != 4 {
		t.Fatalf("verify = %+v, %v", r, err)
	}
	bad := []*store.RecordEntry{{Kind: store.KindAudit, Direction: store.DirInternal, Payload: `{}`},
		{Kind: store.KindAudit, Direction: store.DirInternal, Payload: "not json"}}
	if err := s.AppendRecords(ctx, bad); err == nil {
		t.Fatal("a batch with a payload that is not JSON was accepted")
	}
	if es, _ := s.SearchRecord(ctx, store.RecordQuery{}); len(es) != 4 {
		t.Fatalf("a refused batch left %d entries, want 4", len(es))
	}
}
